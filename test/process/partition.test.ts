// Jepsen-style: five real `meshrun node` processes on 127.0.0.1 (3 voters, 2 learners) run a
// layered DAG of shell tasks while a nemesis cuts real connections (test-only partition gate):
// a voter and a learner from the majority, the leader from everyone, then one way only (a voter
// stops hearing the leader). Each cut outlasts the 5 s lease, so tasks held across it are claimed
// again on the other side. Afterwards the tasks' own log and the API must show: the job succeeded,
// one committed result per task (the last and highest attempt, fenced), no task before its
// dependencies, and nothing committed by a side cut off from the majority.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../src/api/types.js';
import type { JobView } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { PARTITION_FLAG, cutOneWay, healAll, isolate } from './nemesis.js';
import { agreedView, eventually, getCluster, Processes, type NodeProcess } from './spawn.js';
import { checkTaskLog, readTaskLog, taskScript } from './task-log.js';
import { fetchGet, wholeJob } from './whole-job.js';

const procs = new Processes();
afterEach(async () => {
  await procs.cleanup();
});

/** Layers of sharded tasks, each shard depending on every shard of the layer before. */
const LAYERS = 8;
const WIDTH = 50;
const TASK_SLEEP_S = 0.4;
const SLOTS = 2;
/** Every cut lasts at least this long: past the 5 s lease, so the other side takes the tasks over. */
const CUT_MIN_MS = 6_500;
/** Bound on any one phase's wait (a cut's re-claims, a heal's catch-up), generous for 2 busy cores. */
const PHASE_MS = 60_000;

const layerName = (k: number): string => `layer${k}`;

function dag(log: string): unknown {
  const tasks: Record<string, unknown> = {};
  for (let k = 0; k < LAYERS; k++) {
    tasks[layerName(k)] = {
      run: taskScript(TASK_SLEEP_S),
      shards: WIDTH,
      ...(k > 0 ? { deps: [layerName(k - 1)] } : {}),
      env: { TASK_LOG: log },
    };
  }
  // Retries only matter if a lost lease counts as a failed attempt; timeouts far above a run.
  return { name: 'partitioned', defaults: { retries: 5, backoff: '100ms', timeout: '1m' }, tasks };
}

function depsOf(task: string): string[] {
  const k = Number(/^layer(\d+)\[\d+\]$/.exec(task)?.[1]);
  return k > 0 ? Array.from({ length: WIDTH }, (_, i) => `${layerName(k - 1)}[${i}]`) : [];
}

async function getJob(node: NodeProcess, id: string): Promise<JobView> {
  return wholeJob(fetchGet(node.apiUrl, { signal: AbortSignal.timeout(5000) }), id);
}

async function submit(node: NodeProcess, body: unknown): Promise<string> {
  const res = await fetch(`${node.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const answer = (await res.json()) as { id?: string; error?: string };
  if (res.status !== 201 || answer.id === undefined) throw new Error(`submit: ${res.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

/** Raft frames the node's transport discarded because of its partition rules (GET /v1/debug/net, --test-hooks). */
async function refusedFrames(node: NodeProcess): Promise<number> {
  const res = await fetch(`${node.apiUrl}/v1/debug/net`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { transport: { droppedRefused: number } }).transport.droppedRefused;
}

const succeeded = (job: JobView): string[] =>
  Object.keys(job.tasks)
    .filter((n) => job.tasks[n]?.state === 'succeeded')
    .sort();
const maxCommit = (views: readonly ClusterView[]): number => Math.max(...views.map((v) => v.commit));

/** What a two-way cut recorded, for the checks once the job is done. */
interface Cut {
  readonly label: string;
  readonly side: readonly NodeProcess[];
  /** Wall clock (µs, like the task log) once every node had its rules, and just before the heal. */
  readonly fromUs: number;
  readonly toUs: number;
  /** Each cut-off node's commit index read right after the cut. */
  readonly commitAtCut: ReadonlyMap<string, number>;
  /** Tasks running on the cut-off side as of the cut (the majority's view at the cut's commit index), with their attempt. */
  readonly held: ReadonlyMap<string, number>;
  /** Commit indexes of the cut-off side that moved during the cut (must stay empty). */
  readonly moved: readonly string[];
  /** The cut-off side's applied succeeded tasks at the cut and at its end (must be equal). */
  readonly doneBefore: readonly string[][];
  readonly doneAfter: readonly string[][];
}

class Scenario {
  constructor(
    readonly all: readonly NodeProcess[],
    readonly job: string,
  ) {}

  byId(id: string | null): NodeProcess {
    const n = this.all.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${String(id)}`);
    return n;
  }

  async stable(): Promise<ClusterView> {
    return (await agreedView(this.all, { voters: 3, learners: 2 }, PHASE_MS))[0] as ClusterView;
  }

  /** Waits until `side` runs SLOTS tasks (in the leader's view), so the cut catches work in flight. */
  async busy(side: readonly NodeProcess[], leader: NodeProcess, label: string): Promise<void> {
    const ids = new Set(side.map((n) => n.id));
    await eventually(
      `${label}: ${SLOTS} tasks running on ${side.map((n) => n.name).join(' and ')}`,
      async () => {
        const job = await getJob(leader, this.job);
        if (job.state !== 'running') throw new Error(`the job ended (${job.state}) before the cut: the DAG is too small for the nemesis`);
        return Object.values(job.tasks).filter((t) => t.state === 'running' && t.node !== null && ids.has(t.node)).length >= SLOTS
          ? true
          : undefined;
      },
      PHASE_MS,
      25,
    );
  }

  /** Cuts `side` off both ways, holds the cut while checking the side commits nothing, heals. */
  async twoWay(label: string, side: readonly NodeProcess[], leader: NodeProcess): Promise<Cut> {
    const rest = this.all.filter((n) => !side.includes(n));
    const sideIds = new Set(side.map((n) => n.id));
    await this.busy(side, leader, label);
    await isolate(side, this.all);
    // From here no Raft frame crosses: each node drops frames from the other side at once.
    const cutAt = Date.now();
    const views = await Promise.all(side.map(getCluster));
    const commitAtCut = new Map(side.map((n, i) => [n.id, (views[i] as ClusterView).commit]));
    const before = maxCommit([...views, ...(await Promise.all(rest.map(getCluster)))]);
    // The side's applied state once it has applied all it had seen committed: it must stay so.
    const doneBefore = await Promise.all(side.map((n) => this.doneAt(n, commitAtCut.get(n.id) ?? 0)));
    // What the side held as of the cut, seen on the majority once it has applied that far: those
    // tasks either finish from a run that ended before the cut or are claimed again after the lease.
    const seen = await this.jobAt(rest[0] as NodeProcess, before);
    const held = new Map(
      Object.entries(seen.tasks).flatMap(([name, t]) =>
        t.state === 'running' && t.node !== null && sideIds.has(t.node) ? [[name, t.attempt] as const] : [],
      ),
    );

    const moved: string[] = [];
    const frozen = async (): Promise<void> => {
      for (const n of side) {
        const v = await getCluster(n);
        if (v.commit !== commitAtCut.get(n.id))
          moved.push(`${n.name}: commit ${commitAtCut.get(n.id)} at the cut, ${v.commit} ${Date.now() - cutAt} ms later`);
      }
    };
    // Held until the majority has committed past everything committed at the cut and is done with
    // every task the side held; never shorter than the lease.
    await eventually(
      `${label}: the majority to commit and to take over ${[...held.keys()].join(', ')}`,
      async () => {
        await frozen();
        const job = await getJob(rest[0] as NodeProcess, this.job);
        const commit = maxCommit(await Promise.all(rest.map(getCluster)));
        const over = [...held].every(([name, attempt]) => {
          const t = job.tasks[name];
          return t !== undefined && (t.attempt > attempt || t.state === 'succeeded');
        });
        return Date.now() - cutAt >= CUT_MIN_MS && over && commit > before ? true : undefined;
      },
      PHASE_MS,
      250,
    );
    await frozen();
    const doneAfter = await Promise.all(side.map(async (n) => succeeded(await getJob(n, this.job))));
    const toUs = Date.now() * 1000;
    await this.heal();
    return { label, side, fromUs: cutAt * 1000, toUs, commitAtCut, held, moved, doneBefore, doneAfter };
  }

  /** `node`'s view of the job once it has applied index `index` (bounded wait). */
  private async jobAt(node: NodeProcess, index: number): Promise<JobView> {
    await eventually(
      `${node.name} to apply index ${index}`,
      async () => ((await getCluster(node)).applied >= index ? true : undefined),
      PHASE_MS,
      50,
    );
    return getJob(node, this.job);
  }

  private async doneAt(node: NodeProcess, index: number): Promise<string[]> {
    return succeeded(await this.jobAt(node, index));
  }

  /** `to` stops hearing `from` (Raft frames only; `from` still hears `to`); the cluster must go on committing. */
  async oneWay(label: string, from: NodeProcess, to: NodeProcess): Promise<number> {
    await this.busy([to], from, label);
    const refusedBefore = await refusedFrames(to);
    await cutOneWay(from, to);
    const cutAt = Date.now();
    const before = maxCommit(await Promise.all(this.all.map(getCluster)));
    await eventually(
      `${label}: the cluster to keep committing`,
      async () => {
        const commit = maxCommit(await Promise.all(this.all.filter((n) => n !== to).map(getCluster)));
        return Date.now() - cutAt >= CUT_MIN_MS && commit > before ? true : undefined;
      },
      PHASE_MS,
      250,
    );
    const refused = (await refusedFrames(to)) - refusedBefore;
    await this.heal();
    return refused;
  }

  /** Heals every node and waits until each has applied what the cluster had committed by then. */
  private async heal(): Promise<void> {
    await healAll(this.all);
    const target = maxCommit(await Promise.all(this.all.map(getCluster)));
    await eventually(
      `every node to apply index ${target} after the heal`,
      async () => ((await Promise.all(this.all.map(getCluster))).every((v) => v.applied >= target) ? true : undefined),
      PHASE_MS,
    );
  }
}

describe('partitions on five meshrun node processes', () => {
  checkLogsAfterEach(procs);

  it('runs a layered shell DAG through a cut-off minority, an isolated leader and a one-way link: one committed result per task, dependencies first, nothing committed by the cut-off side', async () => {
    const extra = ['--slots', String(SLOTS), PARTITION_FLAG];
    const first = await procs.start({ name: 'n1', voters: 3, extra });
    const rest = await Promise.all([2, 3, 4, 5].map((k) => procs.start({ name: `n${k}`, voters: 3, bootstrap: [first.addr], extra })));
    const all = [first, ...rest];
    await agreedView(all, { voters: 3, learners: 2 }, PHASE_MS);
    const log = join(procs.tempDir('meshrun-partition-'), 'tasks.log');
    const s = new Scenario(all, await submit(first, dag(log)));

    // 1. A minority: a follower voter and a learner, from the leader, the other voter and learner.
    let view = await s.stable();
    const voter = s.byId(view.voters.find((v) => v !== view.leader) ?? null);
    const learner = s.byId(view.learners[0] ?? null);
    const minority = await s.twoWay('minority', [voter, learner], s.byId(view.leader));
    // 2. The leader alone, from everyone.
    view = await s.stable();
    const oldLeader = s.byId(view.leader);
    const isolated = await s.twoWay('isolated leader', [oldLeader], oldLeader);
    // 3. One way: a follower voter stops hearing the leader, which still hears it.
    view = await s.stable();
    const refused = await s.oneWay('one-way', s.byId(view.leader), s.byId(view.voters.find((v) => v !== view.leader) ?? null));

    const job = await eventually(
      'the job to end',
      async () => {
        const j = await getJob(first, s.job);
        return j.state !== 'running' ? j : undefined;
      },
      120_000,
      250,
    );
    expect(job.state).toBe('succeeded');
    expect(Object.keys(job.tasks)).toHaveLength(LAYERS * WIDTH);
    // Every node applied the same result for every task.
    const key = (j: JobView): string => JSON.stringify(Object.entries(j.tasks).map(([n, t]) => [n, t.state, t.attempt, t.fence, t.node]));
    await eventually('every node to show the same committed job', async () =>
      (await Promise.all(all.map((n) => getJob(n, s.job)))).every((j) => key(j) === key(job)) ? true : undefined,
    );

    const lines = readTaskLog(log);
    const verdict = checkTaskLog(lines, job, depsOf);
    expect(verdict.violations).toEqual([]);

    for (const cut of [minority, isolated]) {
      // Cut off from a quorum, the side's commit index did not move, nor did its applied state.
      expect(cut.moved, `${cut.label}: commit moved on the cut-off side`).toEqual([]);
      expect(cut.doneAfter, `${cut.label}: tasks finished on the cut-off side`).toEqual(cut.doneBefore);
      // What a cut-off node started during the cut it had applied before the cut: claims no newer
      // than its commit index then (a run's fence is its claim's log index).
      for (const n of cut.side) {
        const late = lines.filter(
          (l) =>
            l.kind === 'start' && l.node === n.id && l.us > cut.fromUs && l.us < cut.toUs && l.fence > (cut.commitAtCut.get(n.id) ?? 0),
        );
        expect(late, `${cut.label}: ${n.name} started runs of claims committed after it was cut off`).toEqual([]);
      }
      // A task the side held across the cut was committed from a later attempt, or from the held
      // one only if that run had ended before the cut (its finish was on its way then).
      for (const [name, attempt] of cut.held) {
        const t = job.tasks[name];
        const endedBefore = lines.some((l) => l.kind === 'end' && l.task === name && l.attempt === attempt && l.us < cut.fromUs);
        expect(
          t !== undefined && (t.attempt > attempt || (t.attempt === attempt && endedBefore)),
          `${cut.label}: ${name}, held at attempt ${attempt}, committed at ${String(t?.attempt)}`,
        ).toBe(true);
      }
    }
    // The one-way cut was one: the follower discarded what the leader kept sending it.
    expect(refused).toBeGreaterThan(0);
    // The cuts caught tasks in flight: some ran again elsewhere.
    expect(minority.held.size + isolated.held.size).toBeGreaterThan(0);
    expect(verdict.rerun.length).toBeGreaterThan(0);
  }, 300_000);
});
