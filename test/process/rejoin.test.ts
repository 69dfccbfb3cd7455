// Real `meshrun node` processes on 127.0.0.1 coming back with a lost or foreign Raft store: a voter
// whose store was wiped is re-admitted as a learner (it never counts as a voter while it lacks
// what it acknowledged) and promoted once caught up; a store recorded for another cluster is
// refused with exit 2. Every wait is on a condition with a deadline.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelStorage } from '../../src/storage/level-storage.js';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, eventually, getCluster, probe, probes, Processes, WAIT_MS, type NodeProcess } from './spawn.js';

const procs = new Processes();

afterEach(async () => {
  await procs.cleanup();
});

async function formCluster(n: number): Promise<NodeProcess[]> {
  const first = await procs.start({ name: 'n1' });
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, k) => procs.start({ name: `n${k + 2}`, bootstrap: [first.addr] })));
  const nodes = [first, ...rest];
  await agreedView(nodes, { voters: n, learners: 0 });
  return nodes;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('nodes coming back with a lost or foreign Raft store', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('a voter restarted with its Raft store wiped is re-admitted as a learner, then promoted once caught up', async () => {
    const nodes = await formCluster(3);
    const view = await getCluster(nodes[0] as NodeProcess);
    const leader = nodes.find((n) => n.id === view.leader) as NodeProcess;
    const lost = nodes.find((n) => n !== leader) as NodeProcess;
    expect((await probe(leader, 'before')).status).toBe(200);

    await procs.stop(lost, 'SIGKILL');
    // Same identity (the key stays in the data directory), the Raft store gone.
    rmSync(join(lost.dataDir, 'raft'), { recursive: true, force: true });
    const back = await procs.start({ name: 'n-wiped', dataDir: lost.dataDir, bootstrap: [leader.addr] });
    expect(back.id).toBe(lost.id);

    await eventually('the leader to demote the wiped voter', async () =>
      leader.stderr().includes('a voter came back with an empty store: re-admitted as a learner') ? true : undefined,
    );
    const all = [...nodes.filter((n) => n !== lost), back];
    await agreedView(all, { voters: 3, learners: 0, where: (v) => v.voters.includes(back.id) });
    expect(back.stderr()).toContain('recorded the cluster id');
    expect((await probe(back, 'after')).status).toBe(200);
    await eventually('both probes everywhere', async () => {
      const lists = await Promise.all(all.map(probes));
      return lists.every((l) => JSON.stringify(l) === JSON.stringify(['before', 'after'])) ? true : undefined;
    });
  });

  it('a node whose store belongs to another cluster exits 2, saying so', async () => {
    const [member] = await formCluster(1);
    const foreign = 'ab'.repeat(16);
    // A store that only holds another cluster's id: what a join into that cluster leaves behind
    // when the node stops before any of that cluster's log reached it.
    const dataDir = join(procs.tempDir(), 'data');
    const store = await LevelStorage.open(join(dataDir, 'raft'));
    await store.setClusterId(foreign);
    await store.close();

    const node = procs.spawn('n-foreign', [
      'node',
      '--data',
      dataDir,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--api',
      '127.0.0.1:0',
      '--bootstrap',
      (member as NodeProcess).addr,
    ]);
    const exit = await withTimeout(node.exited, WAIT_MS, 'the foreign node to exit');
    expect(exit.code).toBe(2);
    expect(node.stderr()).toMatch(
      new RegExp(`meshrun: this data directory belongs to cluster ${foreign}, not [0-9a-f]{32}: start with a new --data directory`),
    );
  });
});
