// The client commands' text, from fixed answers: what each table and line says (docs/cli.md).
import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/api/types.js';
import { apiBases } from '../../src/cli/client.js';
import { formatAttempts } from '../../src/cli/attempts-text.js';
import { formatJobs, formatStatus } from '../../src/cli/job-commands.js';
import { formatNodes } from '../../src/cli/nodes-command.js';
import { nodeLabels } from '../../src/cli/format.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { barLine, plainProgress, progressLine, stuckLines } from '../../src/cli/progress.js';
import { checkHandlers } from '../../src/cli/submit-command.js';
import { normalizeDag } from '../../src/dag/parse.js';
import { failureReport, signalOf } from '../../src/cli/task-text.js';
import type { JobDetail, JobSummary, JobView, TaskItem, TaskState, TaskView } from '../../src/scheduler/types.js';

const counts = (c: Partial<Record<TaskState, number>>): Record<TaskState, number> => ({
  waiting: 0,
  ready: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  ...c,
});
const task = (t: Partial<TaskView>): TaskView => ({
  state: 'succeeded',
  attempt: 1,
  node: 'peer-aaaaaaaa',
  fence: 1,
  exitCode: 0,
  startedAt: 1000,
  finishedAt: 2000,
  durationMs: 1000,
  retryAt: null,
  stdout: '',
  stderr: '',
  reason: null,
  output: null,
  attempts: [],
  ...t,
});
const job = (state: JobView['state'], tasks: Record<string, TaskView>): JobView => {
  const c = counts({});
  for (const t of Object.values(tasks)) c[t.state]++;
  return { id: 'j1', name: 'job', state, submittedAt: 0, finishedAt: 5000, counts: c, specs: [], tasks };
};
/** The job as GET /v1/jobs/{id} answers it: one unsharded spec per task, with its counts. */
const detailOf = (j: JobView): JobDetail => ({
  ...j,
  specCount: Object.keys(j.tasks).length,
  cancelled: Object.values(j.tasks).filter((t) => t.state === 'skipped' && t.reason === 'cancelled').length,
  specsNext: null,
  specs: Object.entries(j.tasks).map(([name, t]) => ({
    name,
    deps: [],
    shards: null,
    counts: counts({ [t.state]: 1 }),
    cancelled: t.state === 'skipped' && t.reason === 'cancelled' ? 1 : 0,
    stuck: null,
  })),
});
/** Its tasks as pages list them. */
const itemsOf = (j: JobView): TaskItem[] => Object.entries(j.tasks).map(([name, t]) => ({ name, ...t }));
const itemOf = (j: JobView, name: string): TaskItem => ({ name, ...(j.tasks[name] as TaskView) });

describe('progress: the bar and the plain line agree', () => {
  it('both count succeeded tasks of all, whatever failed or was skipped', () => {
    const c = counts({ succeeded: 15, failed: 1, skipped: 2 });
    expect(progressLine('failed', c, 4200)).toMatch(/^failed +15\/18 /);
    expect(barLine('failed', c, 4200, 200)).toMatch(/^failed +\[#{20}x{4}\] 15\/18 {2}15 succeeded, 1 failed, 2 skipped/);
  });
});

describe('status --task: the attempts', () => {
  const label = nodeLabels([{ id: 'peer-aaaaaaaa', name: 'alpha' }]);
  const attempt = (n: number, over: Partial<TaskView['attempts'][number]>): TaskView['attempts'][number] => ({
    attempt: n,
    node: 'peer-aaaaaaaa',
    startedAt: 1000 * n,
    finishedAt: 1000 * n + 500,
    exitCode: null,
    signal: null,
    outcome: 'failed',
    reason: null,
    ...over,
  });

  it('lists each attempt with its node, start, duration, outcome, exit or signal, and reason', () => {
    const j = job('running', {
      load: task({
        state: 'running',
        attempt: 23,
        attempts: [
          attempt(4, { outcome: 'lost', reason: 'lease expired', finishedAt: 9000 }),
          attempt(5, { signal: 'SIGKILL' }),
          attempt(6, { exitCode: 3 }),
          attempt(23, { outcome: 'running', finishedAt: null }),
        ],
      }),
    });
    const text = formatAttempts(j, itemOf(j, 'load'), 30_000, label);
    expect(text).toMatch(/^task +load +running$/m);
    expect(text).toMatch(/\n4 +alpha +\+4\.0s +5\.0s +lost +- +lease expired\n/);
    expect(text).toMatch(/\n5 +alpha +\+5\.0s +500ms +failed +SIGKILL\n/);
    expect(text).toMatch(/\n6 +alpha +\+6\.0s +500ms +failed +3\n/);
    expect(text).toMatch(/\n23 +alpha +\+23\.0s +7\.0s +running +-\n/);
    expect(text).toContain('(the first 3 attempts are no longer kept)');
  });

  it('says when there is no attempt yet', () => {
    const j = job('running', { extract: task({ state: 'waiting', attempt: 0, attempts: [] }) });
    expect(formatAttempts(j, itemOf(j, 'extract'), 0, label)).toMatch(/no attempt yet\n$/);
  });
});

describe('status', () => {
  it('shows tasks the cancel skipped as cancelled, a signal in the exit column, and node names', () => {
    const j = job('cancelled', {
      done: task({}),
      killed: task({
        state: 'skipped',
        reason: 'cancelled',
        exitCode: null,
        durationMs: null,
        stderr: 'meshrun: stopped: cancelled\nmeshrun: killed by SIGTERM\n',
      }),
      never: task({
        state: 'skipped',
        reason: 'cancelled',
        attempt: 0,
        node: null,
        exitCode: null,
        startedAt: null,
        finishedAt: 3000,
        durationMs: null,
      }),
      crashed: task({
        state: 'failed',
        reason: 'attempt failed',
        exitCode: null,
        stderr: 'meshrun: killed by SIGKILL\n',
        node: 'peer-bbbbbbbb',
      }),
      upstream: task({
        state: 'skipped',
        reason: 'upstream failed: crashed',
        attempt: 0,
        node: null,
        exitCode: null,
        startedAt: null,
        durationMs: null,
      }),
    });
    const label = nodeLabels([
      { id: 'peer-aaaaaaaa', name: 'alpha' },
      { id: 'peer-bbbbbbbb', name: 'beta' },
    ]);
    const text = formatStatus(detailOf(j), itemsOf(j), 6000, label);
    expect(text).toMatch(/state +cancelled +1\/5 succeeded +1 succeeded, 1 failed, 1 skipped, 2 cancelled\n/);
    expect(text).toMatch(/\nkilled +cancelled +alpha +1 +1\.0s +SIGTERM *\n/);
    expect(text).toMatch(/\nnever +cancelled +- +- +- +- *\n/);
    expect(text).toMatch(/\ncrashed +failed +beta +1 +1\.0s +SIGKILL +attempt failed\n/);
    expect(text).toMatch(/\nupstream +skipped +- +- +- +- +upstream failed: crashed\n/);
  });

  it('for a big job: a table of specs with their counts and why ready tasks wait, then the first tasks and how many more', () => {
    const big: JobDetail = {
      id: 'j2',
      name: 'big',
      state: 'running',
      submittedAt: 0,
      finishedAt: null,
      counts: counts({ ready: 999_990, running: 2, succeeded: 8 }),
      specCount: 2,
      cancelled: 0,
      specsNext: null,
      specs: [
        { name: 'prep', deps: [], shards: null, counts: counts({ succeeded: 1 }), cancelled: 0, stuck: null },
        {
          name: 'work',
          deps: ['prep'],
          shards: 999_999,
          counts: counts({ ready: 999_990, running: 2, succeeded: 7 }),
          cancelled: 0,
          stuck: "no node has handler 'gpu' (known: noop)",
        },
      ],
    };
    const first: TaskItem[] = [
      { name: 'prep', ...task({}) },
      { name: 'work[0]', ...task({}) },
    ];
    const text = formatStatus(big, first, 6000, nodeLabels([]));
    expect(text).toMatch(/\nSPEC +TASKS +SUCCEEDED +RUNNING +READY +WAITING +FAILED +SKIPPED +CANCELLED +NOTE\n/);
    expect(text).toMatch(/\nwork +999,?999 +7 +2 +999,?990 +0 +0 +0 +0 +no node has handler 'gpu' \(known: noop\)\n/);
    expect(text).toMatch(/\nwork\[0\] +succeeded /);
    expect(text).toContain('... and 999998 more tasks (meshrun status j2 --state STATE lists those in one state)\n');
    // A small job without shards: no spec table, every task listed.
    const small = job('succeeded', { a: task({}), b: task({}) });
    expect(formatStatus(detailOf(small), itemsOf(small), 6000)).not.toMatch(/SPEC/);
  });

  it('names a node by its short id when it has no name, and adds the short id where two share a name', () => {
    const label = nodeLabels([
      { id: 'x-11111111', name: 'host' },
      { id: 'x-22222222', name: 'host' },
      { id: 'x-33333333', name: 'solo' },
      { id: 'x-44444444', name: null },
    ]);
    expect(['x-11111111', 'x-33333333', 'x-44444444', 'x-55555555', null].map(label)).toEqual([
      'host/11111111',
      'solo',
      '44444444',
      '55555555',
      '-',
    ]);
  });

  it('the signal is read only from the executor note, and only without an exit code', () => {
    expect(signalOf({ exitCode: null, stderr: 'meshrun: killed by SIGTERM\nmeshrun: killed by SIGKILL\n' })).toBe('SIGKILL');
    expect(signalOf({ exitCode: 1, stderr: 'meshrun: killed by SIGKILL\n' })).toBeNull();
    expect(signalOf({ exitCode: null, stderr: 'echo meshrun: killed by SIGKILL (quoted)\n' })).toBeNull();
  });
});

describe('jobs', () => {
  it('counts failed and skipped tasks in their own columns', () => {
    const j: JobSummary = {
      id: 'j1',
      name: 'etl',
      state: 'failed',
      submittedAt: 0,
      finishedAt: 1000,
      counts: counts({ succeeded: 15, failed: 1, skipped: 2 }),
    };
    const text = formatJobs([j], 2000);
    expect(text).toMatch(/^ID +NAME +STATE +DONE +RUNNING +FAILED +SKIPPED +SUBMITTED \(UTC\) +ELAPSED\n/);
    expect(text).toMatch(/\nj1 +etl +failed +15\/18 +0 +1 +2 +1970-01-01 00:00:00 +1\.0s\n/);
  });
});

describe('submit --wait: the failure report', () => {
  it('counts every failed task when it lists only the first page of them', () => {
    const j = job('failed', { bad: task({ state: 'failed', exitCode: 1 }) });
    const text = failureReport({ ...detailOf(j), counts: counts({ failed: 45 }) }, itemsOf(j), nodeLabels([]));
    expect(text).toMatch(/^failed: 45 tasks\n/);
    expect(text).toContain('  ... and 44 more (meshrun status j1 --state failed)\n');
  });

  it('lists the failed tasks with exit code or signal, attempts, node and why; then what was skipped', () => {
    const j = job('failed', {
      ok: task({}),
      bad: task({ state: 'failed', exitCode: 4, attempt: 3, reason: 'attempt failed', stderr: 'step 1\nno such table: users\n' }),
      hung: task({
        state: 'failed',
        exitCode: null,
        reason: 'timeout',
        stderr: 'meshrun: timed out after 1000 ms; stopping its process group\nmeshrun: killed by SIGTERM\n',
      }),
      after: task({ state: 'skipped', reason: 'upstream failed: bad', attempt: 0, node: null }),
    });
    const text = failureReport(
      detailOf(j),
      itemsOf(j).filter((t) => t.state === 'failed'),
      nodeLabels([{ id: 'peer-aaaaaaaa', name: 'alpha' }]),
    );
    expect(text).toMatch(/^failed: 2 tasks\n {2}TASK +EXIT +ATTEMPTS +NODE +DURATION +WHY\n/);
    expect(text).toMatch(/\n {2}bad +4 +3 +alpha +1\.0s +no such table: users\n/);
    expect(text).toMatch(/\n {2}hung +SIGTERM +1 +alpha +1\.0s +timeout; killed by SIGTERM\n/);
    expect(text).toMatch(
      /\nskipped: 1 task \(a task they depend on failed, their trigger rule could not be met, or the job timed out\)\n$/,
    );
    const cwd = task({
      state: 'failed',
      exitCode: null,
      reason: 'attempt failed',
      stderr: 'meshrun: cannot start the task: its working directory /nope does not exist or is not a directory\n',
    });
    expect(failureReport(detailOf(job('failed', { cwd })), [{ name: 'cwd', ...cwd }], nodeLabels([]))).toContain(
      'cannot start the task: its working directory /nope does not exist',
    );
  });

  it('says how many tasks a cancel stopped or never ran', () => {
    const j = job('cancelled', {
      a: task({ state: 'skipped', reason: 'cancelled' }),
      b: task({ state: 'skipped', reason: 'cancelled', attempt: 0 }),
    });
    expect(failureReport(detailOf(j), [], nodeLabels([]))).toBe('cancelled: 2 tasks stopped or never run when the job was cancelled\n');
  });
});

describe('nodes', () => {
  const base: NodeInfo = {
    id: '12D3KooWaaaaaaaa',
    name: 'alpha',
    state: 'up',
    downSince: null,
    api: 'http://127.0.0.1:7071',
    logBytes: 2048,
    role: 'leader',
    self: true,
    addresses: [],
    slots: 2,
    ahead: 0,
    used: 1,
    free: 1,
    running: 1,
    handlers: ['noop'],
    labels: { zone: 'eu', gpu: 'a100' },
    heartbeatSeq: 1,
    leaseUntil: 100_000,
    leaseMs: 5000,
    lastSeen: null,
    applied: 10,
  };
  it('says a node is down and since when, with no free slots, its name and log size', () => {
    const now = Date.UTC(2026, 0, 2, 14, 3, 20, 300);
    const down: NodeInfo = {
      ...base,
      id: '12D3KooWbbbbbbbb',
      name: 'beta',
      state: 'down',
      downSince: now - 15_300,
      role: 'voter',
      self: false,
      used: 0,
      free: 2,
      running: 0,
      logBytes: null,
    };
    const text = formatNodes([down, base], null, now);
    expect(text).toMatch(/^NAME +ID +ROLE +STATE +SLOTS USED +FREE +RUNNING +HANDLERS +LABELS +LOGS +LAST SEEN\n/);
    expect(text).toMatch(/\nalpha \* +aaaaaaaa +leader +up +1\/2 +1 +1 +noop +gpu=a100,zone=eu +2\.0 KiB +now \(this node\)\n/);
    expect(text).toMatch(/\nbeta +bbbbbbbb +voter +down since 14:03:05 UTC +-\/2 +- +- +noop +gpu=a100,zone=eu +- +15\.3s ago\n/);
  });
});

describe('API addresses', () => {
  it('takes --api repeated or comma-separated, else MESHRUN_API (comma-separated), else the default', () => {
    expect(apiBases(['http://a:1', 'http://b:2/,http://c:3'], {})).toEqual(['http://a:1', 'http://b:2', 'http://c:3']);
    expect(apiBases(undefined, { MESHRUN_API: 'http://a:1, http://b:2' })).toEqual(['http://a:1', 'http://b:2']);
    expect(apiBases(undefined, {})).toEqual(['http://127.0.0.1:7070']);
    expect(() => apiBases(['http://a:1,ftp://b'], {})).toThrow(/must be http/);
  });
});

describe('no silent hangs', () => {
  const up = (id: string, handlers: string[], state: NodeInfo['state'] = 'up'): NodeInfo => ({
    id,
    name: id,
    state,
    downSince: null,
    api: null,
    logBytes: null,
    role: 'voter',
    self: false,
    addresses: [],
    slots: 2,
    ahead: 0,
    used: 0,
    free: 2,
    running: 0,
    handlers,
    labels: {},
    heartbeatSeq: 1,
    leaseUntil: 1,
    leaseMs: 5000,
    lastSeen: null,
    applied: 1,
  });
  const spec = normalizeDag({
    name: 'j',
    tasks: { a: { handler: 'sleepy', args: { ms: 5 } }, b: { handler: 'noop' }, c: { run: 'true' }, d: { handler: 'gpu' } },
  });

  it('submit refuses a handler no live node has, with the one it probably meant and those known (exit 2)', () => {
    const nodes = [up('n1', ['noop', 'sleep']), up('n2', ['noop']), up('n3', ['gpu'], 'down')];
    let caught: unknown;
    try {
      checkHandlers(spec, nodes);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).exitCode).toBe(EXIT.usage);
    expect((caught as CliError).message).toBe(
      "the cluster cannot run this DAG:\n  task 'a': no node has handler 'sleepy' (did you mean 'sleep'?); known: noop, sleep\n  task 'd': no node has handler 'gpu'; known: noop, sleep",
    );
    // Nothing to check against (an older node, or no answer): the submit goes ahead.
    expect(() => checkHandlers(spec, [])).not.toThrow();
    expect(() => checkHandlers(spec, [up('n1', ['noop', 'sleepy', 'gpu'])])).not.toThrow();
  });

  it('submit --wait says once per reason why ready tasks wait with no node to run them', () => {
    const sleepy = "no node has handler 'sleepy' (known: noop)";
    const j = {
      stuck: [
        { spec: 'a', first: 'a[0]', ready: 1, reason: sleepy },
        { spec: 'big', first: 'big', ready: 1, reason: 'no node has 8 slots (the largest has 2)' },
        { spec: 'c', first: 'c[4]', ready: 2, reason: sleepy },
      ],
    };
    expect(stuckLines(j)).toEqual([
      "waiting: a[0] and 2 more: no node has handler 'sleepy' (known: noop)",
      'waiting: big: no node has 8 slots (the largest has 2)',
    ]);
    expect(stuckLines({ stuck: [] })).toEqual([]);
    const lines: string[] = [];
    plainProgress((s) => lines.push(s)).note?.('waiting: big: no node has 8 slots (the largest has 2)');
    expect(lines).toEqual(['waiting: big: no node has 8 slots (the largest has 2)\n']);
  });
});
