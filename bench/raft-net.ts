// `npm run bench -- raft-net`: three `meshrun node` processes over libp2p on loopback, fsync on.
// The leader runs in this process (so proposals are timed without an HTTP hop in between); the two
// followers are real child processes that joined through it. Committed proposals per second and
// the latency from propose() on the leader to the entry being applied there, at 1 and 64
// concurrent proposers of 256-byte commands, beside issue 16's targets; with the leader's CPU time
// and socket writes per commit, which a loaded machine moves far less than it moves latency.
import { at } from '../src/invariant.js';
import '../src/net/polyfill.js';
import { join } from 'node:path';
import { envelope } from '../src/node/entry-envelope.js';
import { silentLogger } from '../src/node/logger.js';
import { startNode } from '../src/node/node.js';
import { parseNodeOptions } from '../src/node/options.js';
import { Processes, eventually, getCluster } from '../test/process/spawn.js';
import { payload, runProposers } from './proposers.js';
import { printTable, writeResults, type Row } from './report.js';
import { countSocketWrites, socketWrites } from './socket-writes.js';

/** Issue 16's figures for etcd 3.4 on this machine kind, and its targets. */
const ETCD_64_PER_S = 2_573;
const TARGET_1_P50_MS = 0.8;

/** The proposers' row, with the leader's CPU and socket writes per commit and the target beside it. */
async function measured(propose: () => Promise<unknown>, proposers: number, total: number): Promise<Row> {
  const cpu0 = process.cpuUsage();
  const writes0 = socketWrites();
  const row = await runProposers(propose, proposers, total);
  const cpu = process.cpuUsage(cpu0);
  const commits = Math.max(1, Number(row.committed));
  const target =
    proposers === 1
      ? {
          figure: `p50 ${Number(row['p50 ms']).toFixed(2)} ms (${Math.round(Number(row['commits/s']))} commits/s)`,
          target: `p50 <= ${TARGET_1_P50_MS} ms`,
          met: Number(row['p50 ms']) <= TARGET_1_P50_MS ? 'yes' : 'NO',
        }
      : {
          figure: `${Math.round(Number(row['commits/s'])).toLocaleString('en-US')} commits/s`,
          target: `>= ${(4 * ETCD_64_PER_S).toLocaleString('en-US')}/s (4x etcd)`,
          met: Number(row['commits/s']) >= 4 * ETCD_64_PER_S ? 'yes' : 'NO',
        };
  return {
    ...row,
    ...target,
    'leader CPU ms/commit': (cpu.user + cpu.system) / 1000 / commits,
    'leader socket writes/commit': (socketWrites() - writes0) / commits,
  };
}

export async function raftNetBench(): Promise<void> {
  countSocketWrites();
  const procs = new Processes();
  const opts = parseNodeOptions({
    data: join(procs.tempDir('meshrun-bench-net-'), 'leader'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    api: '127.0.0.1:0',
    voters: 3,
  });
  if (!opts.ok) throw new Error(opts.error);
  const leader = await startNode(opts.value, silentLogger());
  try {
    const boot = at(leader.listenAddrs, 0, 'a started node listens on an address');
    const followers = [await procs.start({ name: 'f1', bootstrap: [boot] }), await procs.start({ name: 'f2', bootstrap: [boot] })];
    // Both followers promoted to voters and following the in-process leader.
    await eventually(
      'the followers to become voters under the in-process leader',
      async () => {
        const views = await Promise.all(followers.map(getCluster));
        const ok =
          leader.driver.status().membership.conf.voters.length === 3 && views.every((v) => v.role === 'follower' && v.leader === leader.id);
        return ok ? true : undefined;
      },
      30_000,
    );
    if (leader.driver.status().role !== 'leader') throw new Error('the in-process node lost leadership before the run');
    const cmd = envelope({ kind: 'app', data: payload(256) });
    const propose = () => leader.driver.propose(cmd, { timeoutMs: 30_000 });
    await runProposers(propose, 1, 300); // warm-up
    const rows: Row[] = [await measured(propose, 1, 2_000), await measured(propose, 64, 40_000)];
    printTable('raft-net: 3 node processes over libp2p (tcp, noise, yamux) on loopback, LevelDB with fsync, 256-byte commands', rows);
    writeResults('raft-net', rows, { nodes: 3, commandBytes: 256, fsync: true, transport: 'libp2p tcp+noise+yamux, 127.0.0.1' });
  } finally {
    await leader.stop();
    await procs.cleanup();
  }
}
