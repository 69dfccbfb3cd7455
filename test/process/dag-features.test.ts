// The DAG features of docs/dag-file.md §12 and docs/http-api.md §6 on one real node, through the
// CLI: trigger rules (a failed load with an all_done cleanup and a one_failed alert), attempt
// history (`status --task`), no silent hangs (a handler no node has refused at submit, a task
// needing more slots than any node has said by --wait), and a job's own timeout.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { Processes, runCli, type NodeProcess } from './spawn.js';
import { nodeGet, wholeJob } from './whole-job.js';

const procs = new Processes();
let node: NodeProcess;
let dir: string;

beforeAll(async () => {
  dir = procs.tempDir();
  node = await procs.start({ name: 'dag', extra: ['--slots', '2', '--name', 'solo'] });
});
afterAll(async () => {
  await procs.cleanup();
});

const cli = (args: readonly string[]) => runCli([...args, '--api', node.apiUrl], { timeoutMs: 60_000 });

function dagFile(name: string, yaml: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, yaml);
  return f;
}

async function jobView(id: string): Promise<JobView> {
  return wholeJob(nodeGet(node), id);
}

describe('DAG features on a real node', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('a failed load: the all_done cleanup and the one_failed alert run, the report is skipped, the job fails; status --task lists the attempts', async () => {
    const f = dagFile(
      'etl',
      [
        'name: etl',
        'tasks:',
        '  extract: { run: "true" }',
        '  load: { run: "exit 3", deps: [extract], retries: 1, backoff: 0s }',
        '  report: { run: "true", deps: [load] }',
        '  cleanup: { run: "true", deps: [load], trigger: all_done }',
        '  alert: { run: "true", deps: [load], trigger: one_failed }',
        '  audit: { run: "true", deps: [report], trigger: none_failed }',
        '',
      ].join('\n'),
    );
    const r = await cli(['submit', f, '--wait']);
    expect(r.code, r.stderr).toBe(1);
    const id = r.stdout.split('\n')[0] as string;
    const v = await jobView(id);
    expect(v.state).toBe('failed');
    expect(Object.fromEntries(Object.entries(v.tasks).map(([n, t]) => [n, [t.state, t.reason]]))).toEqual({
      extract: ['succeeded', null],
      load: ['failed', 'attempt failed'],
      report: ['skipped', 'upstream failed: load'],
      cleanup: ['succeeded', null],
      alert: ['succeeded', null],
      audit: ['skipped', 'upstream failed: load'],
    });
    expect(v.tasks['load']?.attempts.map((a) => [a.attempt, a.outcome, a.exitCode])).toEqual([
      [1, 'failed', 3],
      [2, 'failed', 3],
    ]);
    const s = await cli(['status', id, '--task', 'load']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(
      /\nATTEMPT +NODE +START +DURATION +OUTCOME +EXIT +REASON\n1 +solo +\+\S+ +\S+ +failed +3\n2 +solo +\+\S+ +\S+ +failed +3\n$/,
    );
    const unknown = await cli(['status', id, '--task', 'laod']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`has no task "laod" (did you mean 'load'?)`);
  }, 90_000);

  it('submit refuses a handler no node has, with the one it probably meant (exit 2); --wait says why a task nobody can run waits', async () => {
    const typo = dagFile('typo', 'name: typo\ntasks:\n  nap: { handler: sleepy }\n');
    const t = await cli(['submit', typo]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain("task 'nap': no node has handler 'sleepy' (did you mean 'sleep'?); known: noop, sleep");

    const big = dagFile('big', 'name: big\ntimeout: 8s\ntasks:\n  huge: { run: "true", slots: 8 }\n');
    const b = await cli(['submit', big, '--wait']);
    expect(b.code).toBe(1);
    expect(b.stdout).toContain('waiting: huge: no node has 8 slots (the largest has 2)\n');
    // Its own timeout ended it, and it says so.
    expect(b.stdout).toContain('job timeout: still running after 8s\n');
    const id = b.stdout.split('\n')[0] as string;
    expect(await jobView(id)).toMatchObject({
      state: 'failed',
      reason: 'job timeout: still running after 8s',
      tasks: { huge: { state: 'skipped', reason: 'job timeout' } },
    });
  }, 90_000);

  it("a job's timeout stops its running task: the attempt ends as timeout, the job fails", async () => {
    const f = dagFile('slow', 'name: slow\ntimeout: 2s\ntasks:\n  nap: { run: "sleep 30" }\n');
    const r = await cli(['submit', f, '--wait']);
    expect(r.code).toBe(1);
    const id = r.stdout.split('\n')[0] as string;
    const v = await jobView(id);
    expect(v).toMatchObject({ state: 'failed', reason: 'job timeout: still running after 2s' });
    expect(v.tasks['nap']?.attempts.map((a) => [a.outcome, a.reason])).toEqual([['timeout', 'job timeout']]);
  }, 90_000);
});
