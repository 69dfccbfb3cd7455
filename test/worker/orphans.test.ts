// No orphans (docs/task-environment.md §5): a task's processes die with the node that started them, even when
// the node is killed with SIGKILL (the supervisor sees its pipe close), and a restarted node kills
// the groups its data directory recorded (leftovers.ts) when the supervisor could not. Real
// processes: a child Node process runs the executor (test/worker/fixtures/orphan-node.ts); every
// process is stopped by its pid and every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor, type RunningExecutor } from '../../src/worker/executor.js';
import { LEDGER_FILE, killLeftovers, procStartTime, readLedger } from '../../src/worker/leftovers.js';
import { isGone, killAll, readPids, waitGone, within } from '../fixtures/executor-helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/orphan-node.ts', import.meta.url));

const dirs: string[] = [];
const pids = new Set<number>();
const executors: RunningExecutor[] = [];

afterEach(async () => {
  killAll(pids);
  pids.clear();
  await Promise.all(executors.splice(0).map((ex) => within(ex.close(), 10_000, 'executor close')));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(os.tmpdir(), 'meshrun-orphans-'));
  dirs.push(d);
  return d;
}

interface FakeNode {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly supervisor: number;
  /** The task's shell (its group id), the sleep that ignores SIGTERM, the plain sleep. */
  readonly task: number[];
}

/** Starts the fixture node on `dataDir` and waits until its task runs. */
async function startNode(dataDir: string): Promise<FakeNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dataDir, '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('cannot start the fixture node');
  pids.add(child.pid);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await within(
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      child.once('exit', (code) => reject(new Error(`fixture node exited (${code}): ${stderr}`)));
    }),
    30_000,
    'the fixture node to start',
  );
  const { supervisor, pidsFile } = JSON.parse(line) as { supervisor: number; pidsFile: string };
  pids.add(supervisor);
  const task = await readPids(pidsFile, 3, 'the fixture task');
  for (const p of task) pids.add(p);
  return { child, pid: child.pid, supervisor, task };
}

async function sigkill(node: FakeNode): Promise<void> {
  const exited = new Promise<void>((resolve) => node.child.once('exit', () => resolve()));
  process.kill(node.pid, 'SIGKILL');
  await within(exited, 10_000, 'the fixture node to die');
}

describe('orphans', () => {
  it('SIGKILL to the node: the supervisor kills the task group, a process that ignores SIGTERM included', async () => {
    const dataDir = tempDir();
    const node = await startNode(dataDir);
    expect(node.task.every((p) => !isGone(p))).toBe(true);
    await sigkill(node);
    for (const p of node.task) await waitGone(p, 'a task process of the killed node', 10_000);
    await waitGone(node.supervisor, 'the supervisor, its work done', 10_000);
  });

  it('when the supervisor could not do it, the next start on the same data directory kills the leftovers', async () => {
    const dataDir = tempDir();
    const node = await startNode(dataDir);
    // The guard is frozen: it will not see its pipe close.
    process.kill(node.supervisor, 'SIGSTOP');
    await sigkill(node);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(node.task.filter((p) => isGone(p))).toEqual([]);
    const leader = node.task[0] ?? 0;
    expect([...readLedger(dataDir).keys()]).toEqual([leader]);

    const logs: { obj: object; msg: string }[] = [];
    const ex = await within(
      createExecutor({ dataDir, nodeId: 'restarted', killGraceMs: 300, log: (obj, msg) => logs.push({ obj, msg }) }),
      10_000,
      'the restarted executor',
    );
    executors.push(ex);
    for (const p of node.task) await waitGone(p, 'a leftover task process', 5_000);
    expect(logs).toContainEqual({ obj: { groups: [leader], forced: [leader] }, msg: expect.stringMatching(/killed task processes left/) });
    // The journal starts afresh.
    expect(readLedger(dataDir).size).toBe(0);
    process.kill(node.supervisor, 'SIGKILL');
    await waitGone(node.supervisor, 'the frozen supervisor', 5_000);
  });
});

describe('leftovers journal', () => {
  /** A detached `sleep` (its own group), as a task's shell would be. */
  function group(): number {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    child.unref();
    if (child.pid === undefined) throw new Error('cannot start sleep');
    pids.add(child.pid);
    return child.pid;
  }

  it('leaves alone a recorded pid now used by another process (its start time differs)', async () => {
    const dataDir = tempDir();
    const stranger = group();
    const ours = group();
    await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(join(dataDir, LEDGER_FILE), `+${stranger} 1\n+${ours} ${procStartTime(ours)}\n`);
    const report = await killLeftovers(dataDir, 300);
    expect(report.killed).toEqual([ours]);
    await waitGone(ours, 'the recorded group', 5_000);
    expect(isGone(stranger)).toBe(false);
  });

  it('forgets removed groups and skips a torn last line', () => {
    const dataDir = tempDir();
    const path = join(dataDir, LEDGER_FILE);
    writeFileSync(path, '+100 5\n+200 6\n-100\n+300 ?\n');
    appendFileSync(path, '+40');
    expect(readLedger(dataDir)).toEqual(
      new Map([
        [200, '6'],
        [300, '?'],
      ]),
    );
    expect(readFileSync(path, 'utf8').endsWith('+40')).toBe(true);
  });
});
