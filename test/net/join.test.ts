import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { hostAddrs } from '../../src/net/addresses.js';
import type { MeshHost } from '../../src/net/host.js';
import { JOIN_PROTOCOL, JoinProtocolError, JoinServer, requestJoin, type JoinContext, type JoinHandlerFn } from '../../src/net/join.js';
import { generateSwarmKey, parseSwarmKey } from '../../src/net/swarm-key.js';
import { decodeJoinRequest, decodeJoinResponse, encodeJoinRequest } from '../../src/net/join-wire.js';
import type { JoinRequest, JoinResponse } from '../../src/net/types.js';
import { joinCluster } from '../../src/node/join-client.js';
import { silentLogger } from '../../src/node/logger.js';
import { Cleanup, addrOf } from './helpers.js';

const CLUSTER = '0123456789abcdef'.repeat(2);

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function requestOf(h: MeshHost): JoinRequest {
  return { id: h.peerId.toString(), addrs: hostAddrs(h), cluster: null, emptyStore: true };
}

function addressOf(h: MeshHost): { id: string; addrs: string[] } {
  return { id: h.peerId.toString(), addrs: hostAddrs(h) };
}

describe('join protocol', () => {
  it('answers a request with the handler’s response', async () => {
    const leader = await cleanup.host();
    const joiner = await cleanup.host();
    const seen: Array<{ req: JoinRequest; ctx: JoinContext }> = [];
    const stop = await serveJoin(leader, async (req, ctx) => {
      seen.push({ req, ctx });
      return {
        ok: true,
        leader: leader.peerId.toString(),
        members: [addressOf(leader), { id: req.id, addrs: req.addrs }],
        cluster: CLUSTER,
        admittedAt: 7,
      };
    });
    cleanup.add(stop);
    const res = await requestJoin(joiner, addrOf(leader), requestOf(joiner));
    expect(res).toEqual({
      ok: true,
      leader: leader.peerId.toString(),
      members: [addressOf(leader), addressOf(joiner)],
      cluster: CLUSTER,
      admittedAt: 7,
    });
    expect(seen).toEqual([{ req: requestOf(joiner), ctx: { from: joiner.peerId.toString() } }]);
  });

  it('passes refusals with a leader hint through, and turns a throwing handler into a refusal', async () => {
    const member = await cleanup.host();
    const joiner = await cleanup.host();
    let mode: 'refuse' | 'throw' = 'refuse';
    const hint = addressOf(member);
    cleanup.add(
      await serveJoin(member, async () => {
        if (mode === 'throw') throw new Error('storage on fire');
        return { ok: false, error: 'not the leader', leader: hint };
      }),
    );
    expect(await requestJoin(joiner, addrOf(member), requestOf(joiner))).toEqual({ ok: false, error: 'not the leader', leader: hint });
    mode = 'throw';
    expect(await requestJoin(joiner, addrOf(member), requestOf(joiner))).toEqual({ ok: false, error: 'storage on fire' });
  });

  it('tells the handler who opened the stream, whatever id the request names', async () => {
    const member = await cleanup.host();
    const victim = await cleanup.host();
    const attacker = await cleanup.host();
    const seen: Array<{ id: string; from: string }> = [];
    cleanup.add(
      await serveJoin(member, async (req, ctx) => {
        seen.push({ id: req.id, from: ctx.from });
        return { ok: false, error: 'noted' };
      }),
    );
    // A well-formed request for the victim (its id, its addresses), sent by the attacker.
    await requestJoin(attacker, addrOf(member), requestOf(victim));
    expect(seen).toEqual([{ id: victim.peerId.toString(), from: attacker.peerId.toString() }]);
  });

  it('a joiner sent to a follower asks the leader it names itself', async () => {
    const leader = await cleanup.host();
    const follower = await cleanup.host();
    const joiner = await cleanup.host();
    const atLeader: JoinContext[] = [];
    cleanup.add(
      await serveJoin(leader, async (req, ctx) => {
        atLeader.push(ctx);
        return {
          ok: true,
          leader: leader.peerId.toString(),
          members: [addressOf(leader), { id: req.id, addrs: req.addrs }],
          cluster: CLUSTER,
          admittedAt: 7,
        };
      }),
    );
    let followerAsked = 0;
    cleanup.add(
      await serveJoin(follower, async () => {
        followerAsked++;
        return { ok: false, error: 'not the leader', leader: addressOf(leader) };
      }),
    );
    const res = await joinCluster({
      bootstrap: [addrOf(follower)],
      request: requestOf(joiner),
      send: (addr, req, timeoutMs) => requestJoin(joiner, addr, req, { timeoutMs }),
      timeoutMs: 10_000,
      log: silentLogger(),
    });
    expect(res.ok).toBe(true);
    expect(res.members.map((m) => m.id)).toEqual([leader.peerId.toString(), joiner.peerId.toString()]);
    expect(res.cluster).toBe(CLUSTER);
    expect(followerAsked).toBe(1);
    expect(atLeader).toEqual([{ from: joiner.peerId.toString() }]);
  });

  it('times out on a peer that never answers, naming the peer', async () => {
    const silent = await cleanup.host();
    const joiner = await cleanup.host();
    await silent.handle(JOIN_PROTOCOL, () => {
      // Accepts the stream and never answers.
    });
    const id = silent.peerId.toString();
    const t0 = Date.now();
    const err = await requestJoin(joiner, addrOf(silent), requestOf(joiner), { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(id);
    expect((err as Error).message).toMatch(/no answer within 300 ms/);

    // A server whose handler hangs answers with a refusal once its own bound passes.
    const slow = await cleanup.host();
    cleanup.add(await serveJoin(slow, () => new Promise<JoinResponse>(() => undefined), { handlerTimeoutMs: 100 }));
    const res = await requestJoin(joiner, addrOf(slow), requestOf(joiner), { timeoutMs: 3_000 });
    expect(res).toEqual({ ok: false, error: 'no answer within 100 ms' });
  });

  it('a port that takes the connection but never completes the handshake: the timeout says the swarm keys likely differ', async () => {
    // What a node with another swarm key may do (docs/security.md §2): accept the TCP connection
    // and read our handshake as noise forever. Here a plain TCP server that never writes a byte.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.add(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          silent.close(() => r());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const target = `/ip4/127.0.0.1/tcp/${port}/p2p/${(await cleanup.host()).peerId.toString()}`;
    const hint = `127.0.0.1:${port} accepts connections but the handshake never completed: the swarm keys likely differ`;
    // With a swarm key, pnet's own bound on its nonce exchange (1 s) usually ends the dial first.
    const keyed = await cleanup.host({ swarmKey: parseSwarmKey(generateSwarmKey(), 'test') });
    const err = await requestJoin(keyed, target, requestOf(keyed), { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinProtocolError);
    expect((err as Error).message).toMatch(/: (the dial timed out|no answer within 5000 ms \(while dialling\)): /);
    expect((err as Error).message).toContain(hint);
    // Without one, the dial hangs until the request's own bound.
    const plain = await cleanup.host();
    const err2 = await requestJoin(plain, target, requestOf(plain), { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect((err2 as JoinProtocolError).kind).toBe('timeout');
    expect((err2 as Error).message).toContain(`: no answer within 1000 ms (while dialling): ${hint}`);

    // Nothing listening at all is not a swarm-key problem, and the message does not say it is.
    const closing = new Promise<void>((r) => silent.close(() => r()));
    for (const s of sockets) s.destroy();
    await closing;
    const closed = await requestJoin(keyed, target, requestOf(keyed), { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(JoinProtocolError);
    expect((closed as Error).message).not.toMatch(/swarm key/);
  });

  it('names the peer when it cannot be reached, and refuses bad targets and requests', async () => {
    const gone = await cleanup.host();
    const joiner = await cleanup.host();
    const target = addrOf(gone);
    await gone.stop();
    await expect(requestJoin(joiner, target, requestOf(joiner), { timeoutMs: 2_000 })).rejects.toThrow(gone.peerId.toString());
    await expect(requestJoin(joiner, '/ip4/127.0.0.1/tcp/1', requestOf(joiner))).rejects.toThrow(/must end in \/p2p\//);
    await expect(requestJoin(joiner, 'nonsense', requestOf(joiner))).rejects.toThrow(/nonsense/);
    await expect(requestJoin(joiner, target, { id: 'x', addrs: [], cluster: null, emptyStore: true })).rejects.toThrow(/not a peer id/);
  });

  it('answers garbage with a refusal and survives an oversize request', async () => {
    const member = await cleanup.host();
    const raw = await cleanup.host();
    let calls = 0;
    cleanup.add(
      await serveJoin(member, async () => {
        calls++;
        return { ok: false, error: 'unused' };
      }),
    );
    await raw.dial(multiaddr(addrOf(member)));
    const s1 = await raw.dialProtocol(member.peerId, JOIN_PROTOCOL);
    const lp1 = lpStream(s1);
    await lp1.write(new TextEncoder().encode('{"v":2,"id":"12D3KooW","addrs":"nope","cluster":null,"emptyStore":true}'));
    const answer = JSON.parse(new TextDecoder().decode((await lp1.read()).subarray())) as { ok: boolean; error: string };
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatch(/^invalid join request: addrs/);

    const s2 = await raw.dialProtocol(member.peerId, JOIN_PROTOCOL);
    const lp2 = lpStream(s2);
    await lp2.write(new Uint8Array(200 * 1024)).catch(() => undefined);
    await expect(lp2.read({ signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
    expect(calls).toBe(0);

    // Still serving.
    expect(await requestJoin(raw, addrOf(member), requestOf(raw))).toEqual({ ok: false, error: 'unused' });
    expect(calls).toBe(1);
  });
});

describe('join wire format', () => {
  const id = '12D3KooWLRPJAA5o6ZZ2vAbtqQJ2PpSLG7X5oLtdNdDRbEYu5pke';
  const req: JoinRequest = { id, addrs: [`/ip4/127.0.0.1/tcp/5/p2p/${id}`], cluster: CLUSTER, emptyStore: false };
  const text = (value: object): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

  it('round-trips the cluster id and the empty-store flag', () => {
    expect(decodeJoinRequest(encodeJoinRequest(req))).toEqual({ ok: true, value: req });
    const fresh = { ...req, cluster: null, emptyStore: true };
    expect(decodeJoinRequest(encodeJoinRequest(fresh))).toEqual({ ok: true, value: fresh });
  });

  it('refuses a malformed cluster id, a missing flag and the previous version, naming the field', () => {
    const wire = { v: 2, id, addrs: req.addrs, cluster: CLUSTER, emptyStore: false };
    expect(decodeJoinRequest(text({ ...wire, cluster: 'x'.repeat(10_000) }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^cluster: /),
    });
    expect(decodeJoinRequest(text({ ...wire, cluster: CLUSTER.toUpperCase() }))).toMatchObject({
      ok: false,
      error: expect.stringContaining('not a cluster id'),
    });
    expect(decodeJoinRequest(text({ ...wire, emptyStore: 'yes' }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^emptyStore: /),
    });
    expect(decodeJoinRequest(text({ v: 1, id, addrs: req.addrs }))).toMatchObject({ ok: false, error: expect.stringMatching(/^v: /) });
    expect(() => encodeJoinRequest({ ...req, cluster: 'nope' })).toThrow(/invalid join request: cluster: /);
  });

  it('carries a refusal’s reason and an answer’s cluster id, and bounds both', () => {
    const refusal = { v: 2, ok: false, error: 'wrong', reason: 'wrong-cluster' };
    expect(decodeJoinResponse(text(refusal))).toEqual({ ok: true, value: { ok: false, error: 'wrong', reason: 'wrong-cluster' } });
    expect(decodeJoinResponse(text({ ...refusal, reason: 'whatever' }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^reason: /),
    });
    const answer = { v: 2, ok: true, leader: id, members: [], cluster: CLUSTER, admittedAt: 7 };
    expect(decodeJoinResponse(text(answer))).toEqual({
      ok: true,
      value: { ok: true, leader: id, members: [], cluster: CLUSTER, admittedAt: 7 },
    });
    expect(decodeJoinResponse(text({ ...answer, cluster: null }))).toMatchObject({ ok: true, value: { cluster: null } });
    expect(decodeJoinResponse(text({ ...answer, cluster: 'abc' }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^cluster: /),
    });
    const { cluster: _c, ...withoutCluster } = answer;
    expect(decodeJoinResponse(text(withoutCluster))).toMatchObject({ ok: false, error: expect.stringMatching(/^cluster: /) });
  });
});

/** A join server on `host`, started as a node starts it; resolves with its stop. */
async function serveJoin(
  host: MeshHost,
  handler: JoinHandlerFn,
  init: { readonly handlerTimeoutMs?: number } = {},
): Promise<() => Promise<void>> {
  const server = new JoinServer(host, { handler, ...init });
  await server.start();
  return () => server.stop();
}
