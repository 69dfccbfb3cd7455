// The client commands against one real node: status, jobs, cancel, logs, nodes and submit --wait's
// progress; their --json shapes; and their errors: an unknown job (exit 2), an unreachable API
// (exit 3, naming the URL), bad flags (exit 2).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDetail, JobSummary, TaskItem } from '../../src/scheduler/types.js';
import { eventually, Processes, runCli, type NodeProcess, unusedPort } from './spawn.js';

const procs = new Processes();
let node: NodeProcess;
let dir: string;
/** Whether the node serves an endpoint (404 naming no such endpoint means not). */
async function serves(path: string): Promise<boolean> {
  const res = await fetch(`${node.apiUrl}${path}`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return !(res.status === 404 && text.includes('no such endpoint'));
}
let hasNodes = false;
let hasLogs = false;

beforeAll(async () => {
  node = await procs.start({ name: 'n1', extra: ['--slots', '4', '--name', 'cli-node'] });
  dir = procs.tempDir();
  hasNodes = await serves('/v1/nodes');
  hasLogs = await serves('/v1/jobs/x/tasks/y/log');
});
afterAll(async () => {
  await procs.cleanup();
});

const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--api', node.apiUrl], { env, timeoutMs: 60_000 });

function dagFile(name: string, yaml: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, yaml);
  return f;
}

describe('meshrun status, jobs, cancel, logs, nodes', { concurrent: false }, () => {
  let jobId = '';

  it('submit --wait with the progress bar (forced, as on a terminal) redraws one line and exits 0', async () => {
    const f = dagFile(
      'ok',
      [
        'name: cli-ok',
        'tasks:',
        '  a: { run: "echo hello-from-a; echo oops-on-stderr >&2" }',
        // fails its first attempt, succeeds on the retry
        '  flaky: { run: "if [ \\"$MESHRUN_ATTEMPT\\" = 1 ]; then echo first-attempt-fails; exit 3; fi; echo second-attempt-ok", retries: 1, backoff: 250ms }',
        '  b: { run: "sleep 0.2", deps: [a, flaky] }',
        '',
      ].join('\n'),
    );
    const r = await cli(['submit', f, '--wait'], { MESHRUN_PROGRESS: 'bar' });
    expect(r.code, r.stderr).toBe(0);
    jobId = r.stdout.split('\n')[0] as string;
    expect(jobId).toMatch(/^[a-z0-9-]+$/);
    expect(r.stdout).toContain('\r\x1b[2K');
    expect(r.stdout).toMatch(/succeeded\s+\[#{24}\] 3\/3 {2}3 succeeded {2}\d+\.\ds\n$/);
  });

  it('status: a header and a table of tasks; --json is the API job', async () => {
    const r = await cli(['status', jobId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^job +${jobId} +cli-ok\\n`));
    expect(r.stdout).toMatch(/state +succeeded +3\/3 succeeded/);
    expect(r.stdout).toMatch(/elapsed +\d/);
    expect(r.stdout).toMatch(/TASK +STATE +NODE +ATTEMPT +DURATION +EXIT/);
    // Nodes go by their --name.
    expect(r.stdout).toMatch(/\na +succeeded +cli-node +1 +\d+(ms|\.\ds) +0/);
    expect(r.stdout).toMatch(/\nflaky +succeeded +cli-node +2 +/);

    const j = await cli(['status', jobId, '--json']);
    expect(j.code).toBe(0);
    const view = JSON.parse(j.stdout) as JobDetail;
    expect(view).toMatchObject({ id: jobId, name: 'cli-ok', state: 'succeeded', counts: { succeeded: 3 } });
    expect(view).not.toHaveProperty('tasks');
    expect(view.specs.find((s) => s.name === 'flaky')).toMatchObject({ shards: null, counts: { succeeded: 1 } });
    const ok = await cli(['status', jobId, '--state', 'succeeded', '--json']);
    const { tasks } = JSON.parse(ok.stdout) as { tasks: TaskItem[] };
    expect(tasks.find((t) => t.name === 'flaky')).toMatchObject({ state: 'succeeded', attempt: 2, exitCode: 0, node: node.id });
  });

  it('jobs: a table with the job; --json is { jobs: [...] }', async () => {
    const r = await cli(['jobs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ID +NAME +STATE +DONE/);
    expect(r.stdout).toMatch(new RegExp(`\\n${jobId} +cli-ok +succeeded +3/3 `));
    const j = await cli(['jobs', '--json']);
    const { jobs } = JSON.parse(j.stdout) as { jobs: JobSummary[] };
    expect(jobs).toContainEqual(expect.objectContaining({ id: jobId, state: 'succeeded' }));
  });

  it("logs: the latest attempt's output; --json names the attempt; unknown task or attempt exits 2", async () => {
    const r = await cli(['logs', jobId, 'a']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello-from-a');
    expect(r.stdout).toContain('oops-on-stderr');
    const latest = await cli(['logs', jobId, 'flaky', '--json']);
    expect(latest.code, latest.stderr).toBe(0);
    expect(JSON.parse(latest.stdout)).toMatchObject({ job: jobId, task: 'flaky', attempt: 2, node: node.id });
    expect((JSON.parse(latest.stdout) as { log: string }).log).toContain('second-attempt-ok');
    if (hasLogs) {
      const first = await cli(['logs', jobId, 'flaky', '--attempt', '1']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('first-attempt-fails');
      const firstJson = JSON.parse((await cli(['logs', jobId, 'flaky', '--attempt', '1', '--json'])).stdout) as Record<string, unknown>;
      expect(firstJson).toMatchObject({ job: jobId, task: 'flaky', attempt: 1, node: node.id });
      expect(firstJson['log']).toBe('first-attempt-fails\n');
    }
    const noTask = await cli(['logs', jobId, 'nope']);
    expect(noTask.code).toBe(2);
    expect(noTask.stderr).toContain(`job ${jobId} has no task "nope"; its tasks: a, flaky, b`);
    const noAttempt = await cli(['logs', jobId, 'a', '--attempt', '5']);
    expect(noAttempt.code).toBe(2);
    expect(noAttempt.stderr).toContain('there is no attempt 5');
    const badAttempt = await cli(['logs', jobId, 'a', '--attempt', 'zero']);
    expect(badAttempt.code).toBe(2);
    expect(badAttempt.stderr).toContain('--attempt must be a positive integer');
  });

  it('submit --wait exits 1 when the job fails, and status shows the exit code', async () => {
    const f = dagFile('fail', 'name: cli-fail\ntasks:\n  bad: { run: "exit 4" }\n  after: { run: "true", deps: [bad] }\n');
    const r = await cli(['submit', f, '--wait']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/failed +0\/2 +0 succeeded, 1 failed, 1 skipped/);
    const id = r.stdout.split('\n')[0] as string;
    const s = await cli(['status', id]);
    expect(s.stdout).toMatch(/\nbad +failed +\S+ +1 +\S+ +4/);
    expect(s.stdout).toMatch(/\nafter +skipped +- +- +- +- +upstream failed/);
  });

  it('cancel: a running job is cancelled (exit 0, --json {id, state}); cancelling it again exits 2', async () => {
    const f = dagFile('long', 'name: cli-long\ntasks:\n  wait: { run: "sleep 30" }\n  then: { run: "true", deps: [wait] }\n');
    const sub = await cli(['submit', f, '--json']);
    expect(sub.code, sub.stderr).toBe(0);
    const { id } = JSON.parse(sub.stdout) as { id: string };
    await eventually(
      'the task to run',
      async () => {
        const s = await cli(['status', id, '--json']);
        return (JSON.parse(s.stdout) as JobDetail).specs.find((x) => x.name === 'wait')?.counts.running === 1 ? true : undefined;
      },
      30_000,
      200,
    );
    const c = await cli(['cancel', id, '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({ id, state: 'cancelled' });
    const s = await cli(['status', id]);
    expect(s.stdout).toMatch(/state +cancelled/);
    const again = await cli(['cancel', id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already ended: cancelled');
  });

  it('an unknown job exits 2 with a clear message, for status, cancel and logs', async () => {
    for (const args of [
      ['status', 'nosuchjob'],
      ['cancel', 'nosuchjob'],
      ['logs', 'nosuchjob', 'a'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`meshrun: no job nosuchjob at ${node.apiUrl}`);
    }
  });

  it('nodes: a table of the node with its role, slots, handlers and last heartbeat; --json is { nodes: [...] }', async (ctx) => {
    if (!hasNodes) return ctx.skip();
    const n = await eventually(
      'the node to heartbeat',
      async () => {
        const r = await cli(['nodes']);
        return r.code === 0 && r.stdout.includes(node.id.slice(-8)) ? r : undefined;
      },
      20_000,
      200,
    );
    expect(n.stdout).toMatch(/^NAME +ID +ROLE +STATE +SLOTS USED +FREE +RUNNING +HANDLERS +LABELS +LOGS +LAST SEEN/);
    expect(n.stdout).toMatch(
      new RegExp(`\\ncli-node \\* +${node.id.slice(-8)} +leader +up +0/4 +4 +0 +\\S*noop\\S* +- +\\S+( \\S+)? +now \\(this node\\)`),
    );
    const j = await cli(['nodes', '--json']);
    const { nodes } = JSON.parse(j.stdout) as { nodes: { id: string; role: string; slots: number }[] };
    expect(nodes).toContainEqual(expect.objectContaining({ id: node.id, role: 'leader', slots: 4, state: 'up', api: node.apiUrl }));
  });

  it('an unreachable API exits 3 naming the URL, for every client command', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    for (const args of [['status', 'x'], ['jobs'], ['cancel', 'x'], ['logs', 'x', 'a'], ['nodes'], ['jobs', '--json']]) {
      const r = await runCli([...args, '--api', url]);
      expect(r.code, args.join(' ')).toBe(3);
      // With --json the error is JSON on stdout, where a script reads the answer.
      const said = args.includes('--json') ? (JSON.parse(r.stdout) as { error: string }).error : r.stderr;
      expect(said).toContain(`cannot reach the meshrun API at ${url}/`);
    }
  });

  it.each([
    [['status'], /missing required argument 'job'/],
    [['logs', 'j'], /missing required argument 'task'/],
    [['jobs', '--bogus'], /unknown option '--bogus'/],
    [['cancel', 'a', 'b'], /too many arguments/],
    [['status', 'x', '--api', 'not a url'], /is not a URL/],
    [['nodes', '--api', 'ftp://x'], /must be http/],
    [['demo', '--bogus'], /unknown option '--bogus'/],
  ])('meshrun %j exits 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
