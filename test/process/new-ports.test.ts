// Members that come back on new ports while the replicated address book (the log) still lists
// their old ones, and no quorum is up to correct it. What a user can expect: a restarted member
// uses its `--bootstrap` addresses as places to reach members (its data directory already says
// which cluster it belongs to); a member that is dialled learns the dialler's current addresses
// from the connection itself (libp2p identify) and can dial back. So once one of two live members
// is told where the other listens now, they reconnect, form a quorum, and the log catches up.
import { afterEach, describe, expect, it } from 'vitest';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, eventually, probe, probes, Processes, type NodeProcess, unusedPort } from './spawn.js';

const procs = new Processes();
afterEach(async () => {
  await procs.cleanup();
});

async function threeNodes(): Promise<NodeProcess[]> {
  const n1 = await procs.start({ name: 'n1' });
  const n2 = await procs.start({ name: 'n2', bootstrap: [n1.addr] });
  const n3 = await procs.start({ name: 'n3', bootstrap: [n1.addr] });
  const nodes = [n1, n2, n3];
  await agreedView(nodes, { voters: 3, learners: 0 });
  expect((await probe(n2, 'before')).status).toBe(200);
  await probesEverywhere(nodes, ['before']);
  for (const n of nodes) await procs.stop(n, 'SIGKILL');
  return nodes;
}

async function probesEverywhere(nodes: readonly NodeProcess[], want: readonly string[]): Promise<void> {
  await eventually(`${want.join(', ')} applied on ${nodes.map((n) => n.name).join(', ')}`, async () => {
    const lists = await Promise.all(nodes.map(probes));
    return lists.every((l) => JSON.stringify(l) === JSON.stringify(want)) ? true : undefined;
  });
}

describe('members restarted on new ports', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('after all three were killed, two restarted on new ports find each other through one --bootstrap hint, and the third comes back the same way', async () => {
    const [n1, n2, n3] = (await threeNodes()) as [NodeProcess, NodeProcess, NodeProcess];
    // n3 comes back first (new port, no flags: it knows only the old addresses in its log); n2 is
    // told where n3 listens now. n1, the member through which both joined, stays down.
    const b3 = await procs.start({ name: 'n3-back', dataDir: n3.dataDir });
    const b2 = await procs.start({ name: 'n2-back', dataDir: n2.dataDir, bootstrap: [b3.addr] });
    expect([b2.id, b3.id]).toEqual([n2.id, n3.id]);
    expect(b2.addr).not.toBe(n2.addr);
    expect(b3.addr).not.toBe(n3.addr);
    await agreedView([b2, b3], { voters: 3, learners: 0 });
    // Proposals through either commit (a quorum of two), whichever leads.
    expect((await probe(b3, 'via-n3')).status).toBe(200);
    expect((await probe(b2, 'via-n2')).status).toBe(200);
    await probesEverywhere([b2, b3], ['before', 'via-n3', 'via-n2']);

    // n1 back on a new port, pointed at n2: the leader (whichever) must reach it too.
    const b1 = await procs.start({ name: 'n1-back', dataDir: n1.dataDir, bootstrap: [b2.addr] });
    const all = [b1, b2, b3];
    await agreedView(all, { voters: 3, learners: 0 });
    expect((await probe(b1, 'via-n1')).status).toBe(200);
    await probesEverywhere(all, ['before', 'via-n3', 'via-n2', 'via-n1']);
  });

  it('keeps dialling a --bootstrap hint that does not answer yet: a member that comes up there later is found', async () => {
    const [, n2, n3] = (await threeNodes()) as [NodeProcess, NodeProcess, NodeProcess];
    // n2 is told that n3 will listen on port P, and starts first: its first dials there fail.
    const port = await unusedPort();
    const hint = `/ip4/127.0.0.1/tcp/${port}/p2p/${n3.id}`;
    const b2 = await procs.start({ name: 'n2-back', dataDir: n2.dataDir, bootstrap: [hint] });
    await new Promise((r) => setTimeout(r, 2000));
    // n3 comes up on P (and on a random port) knowing only n2's old address.
    const b3 = await procs.start({ name: 'n3-back', dataDir: n3.dataDir, extra: ['--listen', `/ip4/127.0.0.1/tcp/${port}`] });
    await agreedView([b2, b3], { voters: 3, learners: 0 });
    expect((await probe(b3, 'found')).status).toBe(200);
    await probesEverywhere([b2, b3], ['before', 'found']);
  });
});
