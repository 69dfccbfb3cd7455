import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { hostAddrs } from '../../src/net/addresses.js';
import type { MeshHost } from '../../src/net/host.js';
import { PartitionGate } from '../../src/net/partition-gate.js';
import { StreamTransport, type MeshRaftTransport } from '../../src/net/raft-transport.js';
import { Cleanup, addrOf, waitFor } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Member {
  host: MeshHost;
  id: string;
  transport: MeshRaftTransport;
  from: string[];
}

/** A host (gated when `gate` is given) with a Raft transport that records who each frame came from. */
async function member(book: Map<string, string[]>, gate?: PartitionGate): Promise<Member> {
  const host = await cleanup.host(gate ? { connectionGater: gate.connectionGater } : {});
  const transport = new StreamTransport(host, { backoffMaxMs: 100, ...(gate ? { accept: (from: string) => gate.accepts(from) } : {}) });
  transport.start();
  cleanup.add(() => transport.stop());
  const m: Member = { host, id: host.peerId.toString(), transport, from: [] };
  transport.onFrame((from) => m.from.push(from));
  transport.setAddressBook((id) => book.get(id));
  book.set(m.id, hostAddrs(host));
  return m;
}

const connected = (a: MeshHost, b: MeshHost): boolean => a.getConnections(b.peerId).length > 0;

describe('partition gate', () => {
  it('blocks connections with a peer both ways and aborts the open ones; heal lets them back', async () => {
    const gate = new PartitionGate();
    const book = new Map<string, string[]>();
    const a = await member(book, gate);
    const b = await member(book);
    await b.host.dial(multiaddr(addrOf(a.host)));
    await waitFor(() => connected(a.host, b.host), 'the connection to open');

    gate.set(a.host, { block: [b.id], dropFrom: [] });
    expect(gate.rules()).toEqual({ block: [b.id], dropFrom: [] });
    await waitFor(() => !connected(a.host, b.host) && !connected(b.host, a.host), 'the connection to close on both sides');
    // Neither side can connect, whoever dials. The dialler's handshake may complete before the
    // gated side learns who it is and closes, so b's dial can resolve with a connection that dies.
    await expect(a.host.dial(multiaddr(addrOf(b.host)), { signal: AbortSignal.timeout(3000) })).rejects.toThrow(/blocked by gater/);
    await b.host.dial(multiaddr(addrOf(a.host)), { signal: AbortSignal.timeout(3000) }).catch(() => null);
    await waitFor(() => !connected(a.host, b.host) && !connected(b.host, a.host), "b's connection to be refused");
    expect(gate.accepts(b.id)).toBe(false);

    gate.heal();
    expect(gate.rules()).toEqual({ block: [], dropFrom: [] });
    await b.host.dial(multiaddr(addrOf(a.host)));
    await waitFor(() => connected(a.host, b.host), 'the connection to open');
  });

  it('dropFrom cuts one way: frames from the peer are discarded, ours still reach it', async () => {
    const gate = new PartitionGate();
    const book = new Map<string, string[]>();
    const a = await member(book, gate);
    const b = await member(book);
    gate.set(a.host, { block: [], dropFrom: [b.id] });

    for (let i = 0; i < 5; i++) {
      a.transport.send(b.id, new Uint8Array([i]));
      b.transport.send(a.id, new Uint8Array([i]));
    }
    await waitFor(() => b.from.length === 5 && a.transport.stats.droppedRefused === 5, "a to reach b, and b's frames to be refused at a");
    expect(a.from).toEqual([]);
    // The connection stays up: the cut is in a's receive path only.
    expect(connected(a.host, b.host)).toBe(true);

    gate.heal();
    b.transport.send(a.id, new Uint8Array([9]));
    await waitFor(() => a.from.length === 1, "b's frame after the heal");
    expect(a.from).toEqual([b.id]);
  });

  it('a new rule set replaces the old one', async () => {
    const gate = new PartitionGate();
    const noConnections = { getConnections: () => [] };
    gate.set(noConnections, { block: ['x'], dropFrom: ['y'] });
    expect([gate.accepts('x'), gate.accepts('y'), gate.accepts('z')]).toEqual([false, false, true]);
    gate.set(noConnections, { block: [], dropFrom: ['z'] });
    expect([gate.accepts('x'), gate.accepts('y'), gate.accepts('z')]).toEqual([true, true, false]);
  });
});
