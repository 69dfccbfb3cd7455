import { generateKeyPair } from '@libp2p/crypto/keys';
import { lpStream } from 'it-length-prefixed-stream';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { hostAddrs } from '../../src/net/addresses.js';
import type { MeshHost } from '../../src/net/host.js';
import { RAFT_PROTOCOL, StreamTransport, type MeshRaftTransport, type RaftTransportInit } from '../../src/net/raft-transport.js';
import { Cleanup, waitFor } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Member {
  host: MeshHost;
  id: string;
  transport: MeshRaftTransport;
  frames: Array<{ from: string; frame: Uint8Array }>;
}

/** A host with a transport that records every frame; the address book is the shared `book`. */
async function member(book: Map<string, string[]>, opts: RaftTransportInit = {}, host?: MeshHost): Promise<Member> {
  const h = host ?? (await cleanup.host());
  const transport = new StreamTransport(h, opts);
  transport.start();
  cleanup.add(() => transport.stop());
  const m: Member = { host: h, id: h.peerId.toString(), transport, frames: [] };
  transport.onFrame((from, frame) => m.frames.push({ from, frame: Uint8Array.from(frame) }));
  transport.setAddressBook((id) => book.get(id));
  book.set(m.id, hostAddrs(h));
  return m;
}

function frameOf(sender: number, seq: number, size = 16): Uint8Array {
  const f = new Uint8Array(size);
  const v = new DataView(f.buffer);
  v.setUint32(0, sender);
  v.setUint32(4, seq);
  f.fill(seq & 0xff, 8);
  return f;
}

describe('raft transport', () => {
  it('three hosts exchange frames, in order per sender, found through the address book', async () => {
    const book = new Map<string, string[]>();
    const ms = [await member(book), await member(book), await member(book)];
    const N = 200;
    for (let seq = 0; seq < N; seq++) {
      ms.forEach((m, i) => {
        for (const other of ms) if (other !== m) m.transport.send(other.id, frameOf(i, seq, 16 + (seq % 50)));
      });
    }
    await waitFor(() => ms.every((m) => m.frames.length === 2 * N), 'every frame to arrive');
    ms.forEach((m, i) => {
      ms.forEach((other, j) => {
        if (i === j) return;
        const mine = m.frames.filter((f) => f.from === other.id).map((f) => f.frame);
        expect(mine).toEqual(Array.from({ length: N }, (_, seq) => frameOf(j, seq, 16 + (seq % 50))));
      });
      expect(m.transport.stats.framesSent).toBe(2 * N);
      expect(m.transport.stats.framesReceived).toBe(2 * N);
      expect(m.transport.stats.droppedQueueFull).toBe(0);
      // One long-lived stream per peer.
      expect(m.transport.stats.streamsOpened).toBe(2);
    });
  });

  it('reaches a peer again after it restarts on the same port with the same key', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book, { backoffMaxMs: 200 });
    const key = await generateKeyPair('Ed25519');
    const firstHost = await cleanup.host({ privateKey: key });
    const b = await member(book, {}, firstHost);
    const listen = firstHost.getMultiaddrs().map((ma) => ma.decapsulateCode(421).toString());

    a.transport.send(b.id, frameOf(0, 1));
    await waitFor(() => b.frames.length === 1, 'the first frame');

    await b.transport.stop();
    await firstHost.stop();
    // Frames sent while the peer is down are queued, dropped or lost; none may throw.
    for (let i = 0; i < 20; i++) a.transport.send(b.id, frameOf(0, 100 + i));

    const restarted = await cleanup.host({ privateKey: key, listen });
    expect(restarted.peerId.toString()).toBe(b.id);
    const b2 = await member(book, {}, restarted);
    let seq = 1000;
    await waitFor(
      () => {
        a.transport.send(b.id, frameOf(0, seq++));
        return b2.frames.length > 0;
      },
      'a frame to reach the restarted peer',
      10_000,
      25,
    );
    expect(a.transport.stats.streamsOpened).toBeGreaterThanOrEqual(2);
    expect(b2.frames[0]?.from).toBe(a.id);
  });

  it('drops and counts frames beyond the queue limit without blocking the caller', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book, { queueLimit: 10, backoffMinMs: 20, backoffMaxMs: 40 });
    // A peer whose address refuses connections: the writer keeps failing to dial.
    const gone = await cleanup.host();
    const goneId = gone.peerId.toString();
    book.set(goneId, hostAddrs(gone));
    await gone.stop();

    const frame = new Uint8Array(1024);
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) a.transport.send(goneId, frame);
    const elapsed = performance.now() - t0;
    // send only appends to a queue: 10,000 calls take well under a second even on a slow machine.
    expect(elapsed).toBeLessThan(500);
    expect(a.transport.stats.droppedQueueFull).toBe(10_000 - 10);
    await waitFor(() => a.transport.stats.dialFailures >= 2, 'redial attempts with backoff');
    expect(a.transport.stats.framesSent).toBe(0);

    // No address at all: frames are dropped as unroutable, counted, and nothing throws.
    const stranger = (await cleanup.host()).peerId.toString();
    for (let i = 0; i < 5; i++) a.transport.send(stranger, frame);
    await waitFor(() => a.transport.stats.droppedNoRoute === 5, 'unroutable frames to be counted');
    a.transport.send('not a peer id', frame);
    await waitFor(() => a.transport.stats.droppedNoRoute === 6, 'a bad id to be counted');
  });

  it('gives up on frames for a peer gone for longer than queueTtlMs, and stops redialling', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book, { queueTtlMs: 150, backoffMinMs: 20, backoffMaxMs: 40 });
    const gone = await cleanup.host();
    const goneId = gone.peerId.toString();
    book.set(goneId, hostAddrs(gone));
    await gone.stop();
    for (let i = 0; i < 5; i++) a.transport.send(goneId, new Uint8Array(8));
    await waitFor(() => a.transport.stats.droppedExpired === 5, 'queued frames to expire');
    const dials = a.transport.stats.dialFailures;
    expect(dials).toBeGreaterThanOrEqual(1);
    // The writer has exited: no dial happens while nothing is sent.
    await new Promise((r) => setTimeout(r, 150));
    expect(a.transport.stats.dialFailures).toBe(dials);
  });

  it('drops frames quietly once its host has stopped', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book);
    const b = await member(book);
    await a.host.stop();
    for (let i = 0; i < 3; i++) a.transport.send(b.id, new Uint8Array(8));
    await waitFor(() => a.transport.stats.droppedNoRoute === 3, 'the frames to be dropped');
  });

  it('refuses an oversize frame, counts it, and carries later frames on a fresh stream', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book, { backoffMaxMs: 100 });
    const b = await member(book, { maxFrameBytes: 1024 });

    a.transport.send(b.id, frameOf(0, 1));
    await waitFor(() => b.frames.length === 1, 'a first small frame');

    a.transport.send(b.id, new Uint8Array(4096));
    await waitFor(() => b.transport.stats.droppedOversize === 1, 'the oversize frame to be refused');
    expect(b.frames).toHaveLength(1);

    let seq = 2;
    await waitFor(
      () => {
        a.transport.send(b.id, frameOf(0, seq++));
        return b.frames.length > 1;
      },
      'a later frame to arrive',
      5_000,
      20,
    );
    expect(b.transport.stats.droppedOversize).toBe(1);
    expect(a.transport.stats.streamsOpened).toBeGreaterThanOrEqual(2);
    // The connection itself survived: still one connection between the two.
    expect(a.host.getConnections(b.host.peerId).length).toBeGreaterThanOrEqual(1);
  });

  it('refuses frames larger than its own limit at send time', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book, { maxFrameBytes: 100 });
    const b = await member(book);
    a.transport.send(b.id, new Uint8Array(101));
    expect(a.transport.stats.droppedTooLarge).toBe(1);
  });

  it('hands garbage frames over as bytes, survives a throwing handler and a malformed length', async () => {
    const book = new Map<string, string[]>();
    const b = await member(book);
    const received: Uint8Array[] = [];
    let calls = 0;
    b.transport.onFrame((_from, frame) => {
      calls++;
      if (calls === 2) throw new Error('handler bug');
      received.push(Uint8Array.from(frame));
    });
    const raw = await cleanup.host();
    await raw.dial(multiaddr(hostAddrs(b.host)[0]));

    const stream = await raw.dialProtocol(b.host.peerId, RAFT_PROTOCOL);
    const lp = lpStream(stream);
    await lp.write(Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
    await lp.write(Uint8Array.from([1, 2, 3])); // the handler throws on this one
    await lp.write(new Uint8Array(0));
    await lp.write(Uint8Array.from([9]));
    await waitFor(() => received.length === 3, 'the frames after the throwing handler');
    expect(received).toEqual([Uint8Array.from([0xde, 0xad, 0xbe, 0xef]), new Uint8Array(0), Uint8Array.from([9])]);
    expect(b.transport.stats.handlerErrors).toBe(1);

    // A length field that never ends: the stream is reset and counted; the node keeps serving.
    const bad = await raw.dialProtocol(b.host.peerId, RAFT_PROTOCOL);
    void bad
      .sink(
        (async function* () {
          yield new Uint8Array(8).fill(0xff);
        })(),
      )
      .catch(() => undefined);
    await waitFor(() => b.transport.stats.droppedOversize === 1, 'the malformed stream to be reset');

    const again = await raw.dialProtocol(b.host.peerId, RAFT_PROTOCOL);
    await lpStream(again).write(Uint8Array.from([7, 7]));
    await waitFor(() => received.length === 4, 'a frame on a fresh stream');
    expect(received[3]).toEqual(Uint8Array.from([7, 7]));
  });

  it('stop() ends writers and refuses further sends quietly', async () => {
    const book = new Map<string, string[]>();
    const a = await member(book);
    const b = await member(book);
    a.transport.send(b.id, frameOf(0, 1));
    await waitFor(() => b.frames.length === 1, 'a frame');
    await a.transport.stop();
    a.transport.send(b.id, frameOf(0, 2));
    await b.transport.stop();
    expect(a.transport.stats.framesSent).toBe(1);
  });
});
