// `npm run bench -- failover`: three `meshrun node` processes; ten times, SIGKILL the leader and
// measure, from the kill, the time until another node reports itself leader of a newer term, and
// until that new leader's first commit (its term's no-op) shows on a surviving node. The killed
// node is restarted on its data directory and old address and rejoins before the next round. Then
// ten partition rounds on the same cluster (see failover-partition.ts): the leader isolated through
// the test-only partition gate, then healed. Polling the nodes' APIs every 5 ms bounds the resolution.
import { performance } from 'node:perf_hooks';
import { PARTITION_FLAG } from '../test/process/nemesis.js';
import { Processes, agreedView, getCluster, type NodeProcess } from '../test/process/spawn.js';
import { isolateLeaderOnce, type PartitionRound } from './failover-partition.js';
import { percentile, printTable, writeResults, type Row } from './report.js';
import { at } from '../src/invariant.js';

const ROUNDS = 10;
const POLL_MS = 5;
const ROUND_DEADLINE_MS = 10_000;

interface Round {
  leaderMs: number;
  commitMs: number;
}

async function viewOf(n: NodeProcess) {
  return getCluster(n).catch(() => undefined);
}

async function killLeaderOnce(procs: Processes, nodes: NodeProcess[]): Promise<{ round: Round; nodes: NodeProcess[] }> {
  const views = await agreedView(nodes, { voters: 3, learners: 0 }, 30_000);
  const before = at(views, 0, 'agreedView answers one view per node');
  const victim = nodes.find((n) => n.id === before.leader) as NodeProcess;
  const survivors = nodes.filter((n) => n !== victim);
  const t0 = performance.now();
  await procs.stop(victim, 'SIGKILL');
  let leaderMs = NaN;
  let commitMs = NaN;
  const deadline = t0 + ROUND_DEADLINE_MS;
  const last = new Map<string, unknown>();
  while (Number.isNaN(commitMs) && performance.now() < deadline) {
    for (const s of survivors) {
      const v = await viewOf(s);
      last.set(s.name, v);
      if (!v || v.term <= before.term) continue;
      if (Number.isNaN(leaderMs) && v.leader !== null && v.leader !== victim.id) leaderMs = performance.now() - t0;
      if (!Number.isNaN(leaderMs) && v.commit > before.commit) commitMs = performance.now() - t0;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (Number.isNaN(commitMs)) {
    const views = [...last].map(([n, v]) => `${n}: ${JSON.stringify(v)}`).join('\n');
    throw new Error(
      `no new leader and commit within ${ROUND_DEADLINE_MS} ms of killing ${victim.name} (term ${before.term}, commit ${before.commit}); last views:\n${views}\n${procs.logs()}`,
    );
  }
  // Back on its old address as well, as a node with a fixed --listen comes back in production (a
  // node that returns on a new port must first get its new address to the others).
  const oldListen = victim.addr.replace(/\/p2p\/[^/]+$/, '');
  const back = await procs.start({ name: victim.name, dataDir: victim.dataDir, extra: ['--listen', oldListen, PARTITION_FLAG] });
  return { round: { leaderMs, commitMs }, nodes: [...survivors, back] };
}

export async function failoverBench(): Promise<void> {
  const procs = new Processes();
  try {
    // Every node can be partitioned (test-only flag) for the second phase; the gate costs nothing until used.
    const extra = [PARTITION_FLAG];
    const first = await procs.start({ name: 'n1', extra });
    let nodes = [
      first,
      await procs.start({ name: 'n2', bootstrap: [first.addr], extra }),
      await procs.start({ name: 'n3', bootstrap: [first.addr], extra }),
    ];
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await killLeaderOnce(procs, nodes);
      rounds.push(r.round);
      nodes = r.nodes;
    }
    const stat = (what: string, xs: number[]): Row => ({
      measure: what,
      rounds: xs.length,
      'p50 ms': percentile(xs, 50),
      'max ms': Math.max(...xs),
      'min ms': Math.min(...xs),
    });
    const rows = [
      stat(
        'SIGKILL -> new leader',
        rounds.map((r) => r.leaderMs),
      ),
      stat(
        'SIGKILL -> first commit of the new term',
        rounds.map((r) => r.commitMs),
      ),
    ];
    printTable('failover: 3 node processes, leader killed with SIGKILL (election timeout 0.5-1 s, polled every 5 ms)', rows);

    const cuts: PartitionRound[] = [];
    for (let i = 0; i < ROUNDS; i++) cuts.push(await isolateLeaderOnce(nodes));
    const cutRows = [
      stat(
        'partition -> new leader on the majority side',
        cuts.map((r) => r.leaderMs),
      ),
      stat(
        'partition -> first commit of the new term',
        cuts.map((r) => r.commitMs),
      ),
      stat(
        'partition -> old leader steps down (CheckQuorum)',
        cuts.map((r) => r.stepDownMs),
      ),
      stat(
        'heal -> old leader follows the new leader',
        cuts.map((r) => r.followMs),
      ),
      stat(
        'heal -> old leader caught up (applied = majority commit)',
        cuts.map((r) => r.catchUpMs),
      ),
    ];
    printTable(
      'failover: the leader isolated by the test-only partition gate, then healed (20 commits on the majority while cut; polled every 5 ms)',
      cutRows,
    );
    writeResults('failover', [...rows, ...cutRows], { nodes: 3, rounds, partitionRounds: cuts });
  } finally {
    await procs.cleanup();
  }
}
