// The partition phase of `npm run bench -- failover`: the leader is isolated through the test-only
// partition gate (it blocks everyone, everyone blocks it), and the round measures, from the cut,
// the time to a new leader on the majority side, to that leader's first commit, and to the old
// leader stepping down on its own (CheckQuorum); then, from the heal, the time until the old
// leader follows the new one and until it has applied everything the majority had committed by
// the heal. The majority commits probes while the old leader is away, so it has something to catch up.
import { performance } from 'node:perf_hooks';
import { at } from '../src/invariant.js';
import type { ClusterView } from '../src/api/types.js';
import { healAll, isolate } from '../test/process/nemesis.js';
import { agreedView, getCluster, probe, type NodeProcess } from '../test/process/spawn.js';

const POLL_MS = 5;
const PHASE_DEADLINE_MS = 10_000;
/** Proposals the majority commits while the old leader is cut off. */
const PROBES_WHILE_CUT = 20;

export interface PartitionRound {
  leaderMs: number;
  commitMs: number;
  stepDownMs: number;
  followMs: number;
  catchUpMs: number;
}

/** Polls the nodes every POLL_MS until `done` says so, passing each round's views; throws past the deadline. */
async function pollUntil(
  what: string,
  nodes: readonly NodeProcess[],
  done: (views: Map<NodeProcess, ClusterView>) => boolean,
): Promise<void> {
  const deadline = performance.now() + PHASE_DEADLINE_MS;
  const views = new Map<NodeProcess, ClusterView>();
  for (;;) {
    for (const n of nodes) {
      const v = await getCluster(n).catch(() => undefined);
      if (v) views.set(n, v);
    }
    if (done(views)) return;
    if (performance.now() > deadline) {
      throw new Error(
        `bench: no ${what} within ${PHASE_DEADLINE_MS} ms; last views:\n${[...views].map(([n, v]) => `${n.name}: ${JSON.stringify(v)}`).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function isolateLeaderOnce(nodes: readonly NodeProcess[]): Promise<PartitionRound> {
  const views = await agreedView(nodes, { voters: 3, learners: 0 }, 30_000);
  const before = at(views, 0, 'agreedView answers one view per node');
  const old = nodes.find((n) => n.id === before.leader) as NodeProcess;
  const majority = nodes.filter((n) => n !== old);

  const t0 = performance.now();
  await isolate([old], nodes);
  let leaderMs = NaN;
  let commitMs = NaN;
  let stepDownMs = NaN;
  let newLeader: string | null = null;
  await pollUntil('new leader, first commit and step-down', nodes, (vs) => {
    const now = performance.now() - t0;
    const o = vs.get(old);
    if (Number.isNaN(stepDownMs) && o !== undefined && o.role !== 'leader') stepDownMs = now;
    for (const n of majority) {
      const v = vs.get(n);
      if (!v || v.term <= before.term || v.leader === null || v.leader === old.id) continue;
      newLeader = v.leader;
      if (Number.isNaN(leaderMs)) leaderMs = now;
      if (Number.isNaN(commitMs) && v.commit > before.commit) commitMs = now;
    }
    return !Number.isNaN(commitMs) && !Number.isNaN(stepDownMs);
  });
  const via = at(majority, 0, 'two nodes remain on the majority side');
  for (let i = 0; i < PROBES_WHILE_CUT; i++) {
    const r = await probe(via, `while-cut-${i}`);
    if (r.status !== 200)
      throw new Error(`bench: a probe on the majority failed while the old leader was cut off: ${r.status} ${r.body.error ?? ''}`);
  }
  const target = Math.max(...(await Promise.all(majority.map(getCluster))).map((v) => v.commit));

  const t1 = performance.now();
  await healAll(nodes);
  let followMs = NaN;
  let catchUpMs = NaN;
  await pollUntil('old leader following and caught up', [old], (vs) => {
    const now = performance.now() - t1;
    const o = vs.get(old);
    if (o === undefined) return false;
    if (Number.isNaN(followMs) && o.role === 'follower' && o.leader === newLeader) followMs = now;
    if (Number.isNaN(catchUpMs) && o.applied >= target) catchUpMs = now;
    return !Number.isNaN(followMs) && !Number.isNaN(catchUpMs);
  });
  return { leaderMs, commitMs, stepDownMs, followMs, catchUpMs };
}
