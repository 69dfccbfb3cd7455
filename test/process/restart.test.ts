// What an operator meets when a node comes back: after a graceful leave it rejoins by itself, and
// a first start that failed leaves nothing behind that could become a second cluster.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, getCluster, Processes, unusedPort, type NodeProcess } from './spawn.js';

const procs = new Processes();

afterEach(async () => {
  await procs.cleanup();
});

async function formCluster(n: number): Promise<NodeProcess[]> {
  const first = await procs.start({ name: 'n1' });
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, k) => procs.start({ name: `n${k + 2}`, bootstrap: [first.addr] })));
  const nodes = [first, ...rest];
  await agreedView(nodes, { voters: Math.min(n, 3), learners: Math.max(0, n - 3) });
  return nodes;
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('nodes that come back', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('a node stopped with SIGTERM rejoins by itself when restarted on its data directory, then is promoted again', async () => {
    const nodes = await formCluster(3);
    const view = await getCluster(nodes[0] as NodeProcess);
    const leaver = nodes.find((n) => n.id !== view.leader) as NodeProcess;
    expect(await procs.stop(leaver, 'SIGTERM')).toEqual({ code: 0, signal: null });
    const rest = nodes.filter((n) => n !== leaver);
    await agreedView(rest, { voters: 2, learners: 0 });
    // No --bootstrap: the members' addresses come from its own store.
    const back = await procs.start({ name: `${leaver.name}-back`, dataDir: leaver.dataDir, startTimeoutMs: 60_000 });
    const views = await agreedView([...rest, back], { voters: 3, learners: 0 });
    for (const v of views) expect(v.voters).toContain(back.id);
  }, 180_000);

  it('a start that fails on a taken API port writes no cluster: the next start joins instead of leading a cluster of its own', async () => {
    const first = await procs.start({ name: 'first' });
    const port = await unusedPort();
    const blocker = await occupy(port);
    const dataDir = procs.tempDir();
    const failed = procs.spawn('failed', ['node', '--data', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', `127.0.0.1:${port}`]);
    expect((await failed.exited).code).toBe(2);
    expect(failed.stderr()).toContain(`127.0.0.1:${port} is already in use`);
    await new Promise<void>((r) => blocker.close(() => r()));
    const joiner = await procs.start({ name: 'joiner', dataDir, bootstrap: [first.addr], startTimeoutMs: 60_000 });
    const views = await agreedView([first, joiner], { voters: 2, learners: 0 });
    for (const v of views) expect(v.leader).toBe(first.id);
  }, 120_000);

  it('a leftover one-node cluster started with --bootstrap into another cluster exits 2 and says so', async () => {
    const stray = await procs.start({ name: 'stray' });
    await agreedView([stray], { voters: 1, learners: 0 });
    await procs.stop(stray, 'SIGKILL');
    const other = await procs.start({ name: 'other' });
    const again = procs.spawn('again', [
      'node',
      '--data',
      stray.dataDir,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--api',
      '127.0.0.1:0',
      '--bootstrap',
      other.addr,
    ]);
    expect((await again.exited).code).toBe(2);
    expect(again.stderr()).toContain('holds a one-node cluster of its own');
    expect(again.stderr()).toContain('start with a new --data directory');
  }, 120_000);
});
