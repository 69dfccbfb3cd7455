import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { hostAddrs } from '../../src/net/addresses.js';
import type { MeshHost } from '../../src/net/host.js';
import { JOIN_PROTOCOL, requestJoin, serveJoin, type JoinContext } from '../../src/net/join.js';
import type { JoinRequest, JoinResponse } from '../../src/net/types.js';
import { Cleanup, addrOf } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function requestOf(h: MeshHost): JoinRequest {
  return { id: h.peerId.toString(), addrs: hostAddrs(h) };
}

describe('join protocol', () => {
  it('answers a request with the handler’s response', async () => {
    const leader = await cleanup.host();
    const joiner = await cleanup.host();
    const seen: Array<{ req: JoinRequest; ctx: JoinContext }> = [];
    const stop = await serveJoin(leader, async (req, ctx) => {
      seen.push({ req, ctx });
      return { ok: true, leader: leader.peerId.toString(), members: [requestOf(leader), req] };
    });
    cleanup.add(stop);
    const res = await requestJoin(joiner, addrOf(leader), requestOf(joiner));
    expect(res).toEqual({ ok: true, leader: leader.peerId.toString(), members: [requestOf(leader), requestOf(joiner)] });
    expect(seen).toEqual([{ req: requestOf(joiner), ctx: { from: joiner.peerId.toString() } }]);
  });

  it('passes refusals with a leader hint through, and turns a throwing handler into a refusal', async () => {
    const member = await cleanup.host();
    const joiner = await cleanup.host();
    let mode: 'refuse' | 'throw' = 'refuse';
    const hint = requestOf(member);
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

  it('forwards through a middle node to the leader', async () => {
    const leader = await cleanup.host();
    const middle = await cleanup.host();
    const joiner = await cleanup.host();
    const atLeader: JoinContext[] = [];
    cleanup.add(
      await serveJoin(leader, async (req, ctx) => {
        atLeader.push(ctx);
        return { ok: true, leader: leader.peerId.toString(), members: [requestOf(leader), req] };
      }),
    );
    // A follower: the node would look the leader's address up in its state.
    cleanup.add(await serveJoin(middle, (req) => requestJoin(middle, addrOf(leader), req, { timeoutMs: 3_000 })));
    const res = await requestJoin(joiner, addrOf(middle), requestOf(joiner));
    expect(res.ok).toBe(true);
    expect(res.ok && res.leader).toBe(leader.peerId.toString());
    expect(res.ok && res.members.map((m) => m.id)).toEqual([leader.peerId.toString(), joiner.peerId.toString()]);
    expect(atLeader).toEqual([{ from: middle.peerId.toString() }]);
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

  it('names the peer when it cannot be reached, and refuses bad targets and requests', async () => {
    const gone = await cleanup.host();
    const joiner = await cleanup.host();
    const target = addrOf(gone);
    await gone.stop();
    await expect(requestJoin(joiner, target, requestOf(joiner), { timeoutMs: 2_000 })).rejects.toThrow(gone.peerId.toString());
    await expect(requestJoin(joiner, '/ip4/127.0.0.1/tcp/1', requestOf(joiner))).rejects.toThrow(/must end in \/p2p\//);
    await expect(requestJoin(joiner, 'nonsense', requestOf(joiner))).rejects.toThrow(/nonsense/);
    await expect(requestJoin(joiner, target, { id: 'x', addrs: [] })).rejects.toThrow(/not a peer id/);
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
    await lp1.write(new TextEncoder().encode('{"v":1,"id":"12D3KooW","addrs":"nope"}'));
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
