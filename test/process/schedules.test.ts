// Schedules on real processes (docs/schedules.md §3): a schedule every second on three nodes while
// the leader is SIGKILLed and restarted twice. Every tick in the window gets exactly one job: none
// twice (each tick's job id derives from schedule and tick, and the log decides each tick once),
// none missing (catchup: all fires the ticks due while no leader could commit).
import { afterEach, describe, expect, it } from 'vitest';
import type { ScheduleInfo } from '../../src/api/types.js';
import type { JobSummary } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, apiFetch, eventually, getCluster, Processes, type NodeProcess } from './spawn.js';

const procs = new Processes();

afterEach(async () => {
  await procs.cleanup();
});

const SCHEDULE = {
  name: 'every-second',
  every: '1s',
  overlap: 'allow',
  catchup: 'all',
  dag: { name: 'tick', retention: '1h', tasks: { t: { handler: 'noop' } } },
};
/** How long the schedule runs while leaders are killed. */
const WINDOW_MS = 20_000;

async function json<T>(node: NodeProcess, path: string, init: Parameters<typeof apiFetch>[2] = {}): Promise<T> {
  const res = await apiFetch(node, path, init);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Whichever node answers (the one asked may just have been killed). */
async function anyNode<T>(nodes: readonly NodeProcess[], call: (n: NodeProcess) => Promise<T>): Promise<T | undefined> {
  for (const n of nodes) {
    if (n.child.exitCode !== null || n.child.signalCode !== null) continue;
    try {
      return await call(n);
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('schedules on real processes', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('a schedule every second fires each tick exactly once while the leader is SIGKILLed twice and restarted', async () => {
    const first = await procs.start({ name: 'n1' });
    const rest = await Promise.all([2, 3].map((k) => procs.start({ name: `n${k}`, bootstrap: [first.addr] })));
    const nodes: NodeProcess[] = [first, ...rest];
    await agreedView(nodes, { voters: 3, learners: 0 });
    const created = await json<ScheduleInfo>(first, '/v1/schedules', { method: 'POST', body: SCHEDULE });
    const firstTick = created.nextAt as number;
    const started = Date.now();

    for (const at of [4_000, 11_000]) {
      await sleep(Math.max(0, started + at - Date.now()));
      const leaderId = await eventually('a leader', async () => (await anyNode(nodes, getCluster))?.leader ?? undefined, 30_000);
      const leader = nodes.find((n) => n.id === leaderId) as NodeProcess;
      expect(await procs.stop(leader, 'SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
      await sleep(1500);
      const back = await procs.start({ name: `${leader.name}-back`, dataDir: leader.dataDir, startTimeoutMs: 60_000 });
      nodes.splice(nodes.indexOf(leader), 1, back);
    }
    await sleep(Math.max(0, started + WINDOW_MS - Date.now()));
    const lastTick = firstTick + Math.floor((Date.now() - started - 1000) / 1000) * 1000;

    // Every tick up to lastTick decided (on a loaded machine the last ones may take a while).
    await eventually(
      `ticks up to ${lastTick} decided`,
      async () => {
        const s = await anyNode(nodes, (n) => json<ScheduleInfo>(n, '/v1/schedules/every-second?consistent=true'));
        return s !== undefined && s.nextAt !== null && s.nextAt > lastTick ? s : undefined;
      },
      60_000,
      250,
    );
    const { jobs } = (await anyNode(nodes, (n) => json<{ jobs: JobSummary[] }>(n, '/v1/jobs?consistent=true'))) ?? { jobs: [] };
    const runs = jobs.filter((j) => j.schedule === 'every-second' && (j.tick as number) <= lastTick);
    const ticks = runs.map((j) => j.tick as number).sort((a, b) => a - b);
    const want = Array.from({ length: (lastTick - firstTick) / 1000 + 1 }, (_, i) => firstTick + i * 1000);
    expect(want.length).toBeGreaterThanOrEqual(15);
    // None twice, none missing: exactly one job per tick of the window.
    expect(ticks).toEqual(want);
    expect(new Set(runs.map((j) => j.id)).size).toBe(runs.length);
    // The cluster agrees: every node that answers has the same runs.
    for (const n of nodes) {
      // A node restarted last may not know the leader yet: its consistent read waits until it does.
      const other = await eventually(
        `${n.name} answers a consistent read`,
        () => json<{ jobs: JobSummary[] }>(n, '/v1/jobs?consistent=true'),
        60_000,
        250,
      );
      const mine = other.jobs
        .filter((j) => j.schedule === 'every-second' && (j.tick as number) <= lastTick)
        .map((j) => `${j.tick}:${j.id}`)
        .sort();
      expect(mine, n.name).toEqual(runs.map((j) => `${j.tick}:${j.id}`).sort());
    }
  }, 240_000);
});
