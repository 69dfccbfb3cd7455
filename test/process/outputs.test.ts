// Outputs between tasks (docs/task-environment.md §7) on three real `meshrun node` processes: an
// output passes across three tasks, and outlives the node that produced it (killed with SIGKILL
// before its dependent runs): the dependent, run on another node, reads it from the replicated log
// through $MESHRUN_INPUTS. `meshrun output` prints one raw; a task over 64 KiB fails saying why.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, eventually, Processes, runCli, type NodeProcess } from './spawn.js';
import { nodeGet, wholeJob } from './whole-job.js';

const procs = new Processes();
let nodes: NodeProcess[];
let dir: string;

beforeAll(async () => {
  dir = procs.tempDir();
  const extra = ['--slots', '2'];
  const first = await procs.start({ name: 'n1', extra });
  const rest = await Promise.all([2, 3].map((k) => procs.start({ name: `n${k}`, bootstrap: [first.addr], extra })));
  nodes = [first, ...rest];
  await agreedView(nodes, { voters: 3, learners: 0 });
}, 60_000);
afterAll(async () => {
  await procs.cleanup();
});

const alive = (): NodeProcess[] => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
const cli = (args: readonly string[]) =>
  runCli(
    [
      ...args,
      '--api',
      alive()
        .map((n) => n.apiUrl)
        .join(','),
    ],
    { timeoutMs: 60_000 },
  );

async function jobView(id: string): Promise<JobView | undefined> {
  for (const n of alive()) {
    const v = await wholeJob(nodeGet(n), id).catch(() => undefined);
    if (v !== undefined) return v;
  }
  return undefined;
}

describe('outputs between tasks on real nodes', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('an output passes across three tasks and outlives the node that wrote it; meshrun output prints it raw', async () => {
    const go = join(dir, 'go');
    const f = join(dir, 'chain.yaml');
    writeFileSync(
      f,
      [
        'name: chain',
        'tasks:',
        // The output names the node, without a trailing newline, and with a character beyond ASCII.
        '  extract: { run: \'printf "rows=3 from %s é" "$MESHRUN_NODE" > "$MESHRUN_OUTPUT"\' }',
        // Waits for the test (which kills extract\'s node first), then hands on its whole inputs file.
        `  transform: { run: 'while [ ! -f ${go} ]; do sleep 0.1; done; cat "$MESHRUN_INPUTS" > "$MESHRUN_OUTPUT"', deps: [extract], retries: 3, backoff: 0s }`,
        '  load: { run: \'cat "$MESHRUN_INPUTS" > "$MESHRUN_OUTPUT"\', deps: [transform] }',
        '',
      ].join('\n'),
    );
    const submitted = await cli(['submit', f]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    const extracted = await eventually(
      'extract to succeed',
      async () => {
        const v = await jobView(id);
        return v?.tasks['extract']?.state === 'succeeded' ? v : undefined;
      },
      30_000,
      100,
    );
    const extract = extracted.tasks['extract'];
    const producer = nodes.find((n) => n.id === extract?.node);
    if (producer === undefined || extract === undefined) throw new Error(`extract ran on ${String(extract?.node)}, which is none of ours`);
    expect(extract.output).toBe(`rows=3 from ${producer.id} é`);
    // The node that wrote the output is gone before anything reads it.
    await procs.stop(producer, 'SIGKILL');
    writeFileSync(go, '');
    const done = await eventually(
      'the job to end',
      async () => {
        const v = await jobView(id);
        return v !== undefined && v.state !== 'running' ? v : undefined;
      },
      60_000,
      250,
    );
    expect(done.state).toBe('succeeded');
    const transform = done.tasks['transform'];
    expect(transform?.node).not.toBe(producer.id);
    const handed = JSON.stringify({ extract: `rows=3 from ${producer.id} é` });
    expect(transform?.output).toBe(handed);
    expect(done.tasks['load']?.output).toBe(JSON.stringify({ transform: handed }));
    const raw = await cli(['output', id, 'transform']);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe(handed);
    expect(existsSync(go)).toBe(true);
  }, 120_000);

  it('a task writing more than 64 KiB fails saying why; meshrun output refuses a task that did not succeed (exit 2)', async () => {
    const f = join(dir, 'big.yaml');
    writeFileSync(
      f,
      ['name: big', 'tasks:', '  big: { run: \'head -c 70000 /dev/zero | tr "\\\\0" x > "$MESHRUN_OUTPUT"\' }', ''].join('\n'),
    );
    const r = await cli(['submit', f, '--wait']);
    expect(r.code, r.stderr).toBe(1);
    const id = r.stdout.split('\n')[0] ?? '';
    const v = await jobView(id);
    expect(v?.tasks['big']?.stderr).toContain('$MESHRUN_OUTPUT holds 70000 bytes, more than the 65536 (64 KiB) a task may hand on');
    const out = await cli(['output', id, 'big']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`task big of job ${id} is failed: only a task that succeeded hands on an output`);
  }, 60_000);
});
