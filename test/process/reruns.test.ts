// Re-runs (docs/dag-file.md §13) on a real node, through the CLI: a job whose `load` fails because
// its input file is missing; the file is created; `meshrun rerun JOB --failed --wait` finishes the
// job `succeeded`, the task's attempts show both runs, and the task that was skipped behind it ran.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { nodeGet, wholeJob } from './whole-job.js';
import { Processes, runCli, type NodeProcess } from './spawn.js';

const procs = new Processes();
let node: NodeProcess;
let dir: string;

beforeAll(async () => {
  dir = procs.tempDir();
  node = await procs.start({ name: 'rerun', extra: ['--slots', '2', '--name', 'solo'] });
});
afterAll(async () => {
  await procs.cleanup();
});

const cli = (args: readonly string[]) => runCli([...args, '--api', node.apiUrl], { timeoutMs: 60_000 });

/** The whole job, read through the summary and its pages of tasks (docs/http-api.md §6). */
function jobView(id: string): Promise<JobView> {
  return wholeJob(nodeGet(node), id);
}

describe('re-runs on a real node', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('a load that failed for a missing file re-runs with --failed once the file is there, and the job succeeds', async () => {
    const input = join(dir, 'input.csv');
    const dag = join(dir, 'etl.yaml');
    writeFileSync(
      dag,
      [
        'name: etl',
        'tasks:',
        '  extract: { run: "true" }',
        `  load: { run: "cat '${input}' > \\"$MESHRUN_OUTPUT\\"", deps: [extract] }`,
        '  report: { run: "grep -q rows \\"$MESHRUN_INPUTS\\"", deps: [load] }',
        '  cleanup: { run: "true", deps: [load], trigger: all_done }',
        '',
      ].join('\n'),
    );
    expect(existsSync(input)).toBe(false);
    const first = await cli(['submit', dag, '--wait']);
    expect(first.code, first.stderr).toBe(1);
    const id = first.stdout.split('\n')[0] as string;
    const failed = await jobView(id);
    expect(failed.tasks['load']).toMatchObject({ state: 'failed' });
    expect(failed.tasks['report']).toMatchObject({ state: 'skipped', reason: 'upstream failed: load' });

    // A task the job does not have is refused, with the one it probably meant.
    const typo = await cli(['rerun', id, '--task', 'lod']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`job ${id} has no task "lod" (did you mean 'load'?)`);

    writeFileSync(input, 'rows: 3\n');
    const again = await cli(['rerun', id, '--failed', '--wait']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`job ${id}: 2 tasks re-run\n`);
    const v = await jobView(id);
    expect(v.state).toBe('succeeded');
    expect(Object.fromEntries(Object.entries(v.tasks).map(([n, t]) => [n, t.state]))).toEqual({
      extract: 'succeeded',
      load: 'succeeded',
      report: 'succeeded',
      cleanup: 'succeeded',
    });
    expect(v.tasks['load']?.attempts.map((a) => [a.attempt, a.node, a.outcome, a.exitCode])).toEqual([
      [1, expect.any(String), 'failed', 1],
      [2, expect.any(String), 'succeeded', 0],
    ]);
    expect(v.tasks['load']?.output).toBe('rows: 3\n');
    // The cleanup that ran after the failure was not re-run: one attempt.
    expect(v.tasks['cleanup']?.attempts).toHaveLength(1);
    const s = await cli(['status', id, '--task', 'load']);
    expect(s.stdout).toMatch(/\n1 +solo +.*failed +1\n2 +solo +.*succeeded +0\n$/);

    const done = await cli(['rerun', id, '--failed']);
    expect(done.code).toBe(2);
    expect(done.stderr).toContain(`nothing to re-run in job ${id}`);
  }, 120_000);
});
