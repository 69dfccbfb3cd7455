// `npm run bench -- raft`: three in-process Raft nodes, each on its own LevelDB store with fsync
// on, joined by an in-memory transport. Measures committed proposals per second and the latency
// from propose() on the leader to the entry being committed and applied there, with 1 and 64
// concurrent proposers of 256-byte commands.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RaftDriver, type StateMachine } from '../src/node/driver.js';
import { decodeEnvelope, envelope } from '../src/node/entry-envelope.js';
import type { Decision } from '../src/node/proposal.js';
import { RaftNode } from '../src/raft/raft.js';
import { SeededRng } from '../src/raft/rng.js';
import { defaultRaftConfig } from '../src/raft/types.js';
import type { Entry, Message, NodeId, Snapshot } from '../src/raft/types.js';
import { LevelStorage } from '../src/storage/level-storage.js';
import { payload, runProposers } from './proposers.js';
import { printTable, writeResults, type Row } from './report.js';

const TICK_MS = 20;
const COMMAND_BYTES = 256;
const COMPACT_EVERY = 20_000;

interface Member {
  readonly id: NodeId;
  readonly driver: RaftDriver<null>;
  readonly raft: RaftNode;
  readonly storage: LevelStorage;
  applied: number;
}

/**
 * The benchmark's state machine: counts entries, so a snapshot is tiny, and reads each entry's
 * envelope for its request id, as a node's does, so the proposer's wait is answered.
 */
function machine(member: () => Member): StateMachine<null> {
  return {
    restore(s: Snapshot): void {
      member().applied = s.meta.index;
    },
    apply(e: Entry): Decision<null> | undefined {
      member().applied = e.index;
      const d = e.data.length > 0 ? decodeEnvelope(e.data) : null;
      if (d?.ok) return { request: d.value.request, result: null };
      return undefined;
    },
  };
}

async function startCluster(dir: string): Promise<Member[]> {
  const ids = ['n1', 'n2', 'n3'];
  const members = new Map<NodeId, Member>();
  // Delivery in a later macrotask, as a socket would: a node's Ready cycle never re-enters itself.
  const send = (msgs: readonly Message[]) =>
    setImmediate(() => {
      for (const m of msgs) members.get(m.to)?.driver.receive(m);
    });
  let seed = 1;
  for (const id of ids) {
    const storage = await LevelStorage.open(join(dir, id));
    const raft = new RaftNode({ ...defaultRaftConfig, id, rng: new SeededRng(seed++), maxInflight: 256 }, storage.load(), {
      voters: ids,
      learners: [],
    });
    // eslint-disable-next-line prefer-const -- the machine's callback reads it; it is set once the driver exists
    let self: Member | undefined;
    const driver = new RaftDriver({ raft, storage, send, machine: machine(() => self as Member) });
    self = { id, driver, raft, storage, applied: 0 };
    members.set(id, self);
  }
  for (const m of members.values()) m.driver.start(TICK_MS);
  // n1 campaigns at once so the run does not wait out an election timeout.
  (members.get('n1') as Member).driver.campaign();
  return [...members.values()];
}

async function waitForLeader(members: Member[], timeoutMs: number): Promise<Member> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const leader = members.find((m) => m.driver.status().role === 'leader');
    if (leader && leader.driver.status().commit >= 1) return leader;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no leader elected');
}

export async function raftBench(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'meshrun-bench-raft-'));
  const members = await startCluster(dir);
  try {
    const leader = await waitForLeader(members, 10_000);
    const cmd = envelope({ kind: 'app', data: payload(COMMAND_BYTES) });
    const propose = async () => {
      const { index } = await leader.driver.propose(cmd, { timeoutMs: 30_000 });
      // The compaction a node's Compactor makes, called here directly (the bench has no cluster state to snapshot).
      if (index % COMPACT_EVERY === 0) leader.raft.compact(leader.applied, new Uint8Array(8));
    };
    await runProposers(propose, 1, 300); // warm-up: JIT, LevelDB files
    const rows: Row[] = [];
    rows.push(await runProposers(propose, 1, 3_000));
    rows.push(await runProposers(propose, 64, 60_000));
    printTable('raft: 3 in-process nodes, LevelDB with fsync, 256-byte commands (latency: propose -> applied on the leader)', rows);
    writeResults('raft', rows, { nodes: 3, commandBytes: COMMAND_BYTES, tickMs: TICK_MS, fsync: true });
  } finally {
    for (const m of members) m.driver.stop();
    for (const m of members) await m.storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
