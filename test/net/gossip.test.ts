import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { hostAddrs } from '../../src/net/addresses.js';
import type { MeshHost } from '../../src/net/host.js';
import { LOAD_TOPIC, LoadGossip } from '../../src/net/load-gossip.js';
import type { LoadReport } from '../../src/net/types.js';
import { Cleanup, waitFor } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const PERIOD = 200;

function report(node: string, free: number, handlers: string[] = ['noop']): LoadReport {
  return { node, slots: 4, free, running: 4 - free, handlers, applied: 10, at: Date.now() };
}

/** Hosts connected in a line (each dials the previous), so gossip must also relay. */
async function line(n: number): Promise<MeshHost[]> {
  const hosts: MeshHost[] = [];
  for (let i = 0; i < n; i++) {
    const h = await cleanup.host();
    const prev = hosts[i - 1];
    if (prev) await h.dial(multiaddr(hostAddrs(prev)[0]));
    hosts.push(h);
  }
  return hosts;
}

type GossipTestOptions = { now?: () => number; rateLimit?: { burst: number; perSecond: number }; isMember?: (id: string) => boolean };

/** A LoadGossip on `host`; every sender counts as a member unless the test says otherwise. */
function gossipOn(host: MeshHost, opts: GossipTestOptions = {}): LoadGossip {
  const g = new LoadGossip(
    { pubsub: host.services.pubsub },
    { self: host.peerId.toString(), periodMs: PERIOD, isMember: () => true, ...opts },
  );
  g.start();
  cleanup.add(() => g.stop());
  return g;
}

const encoder = new TextEncoder();

/** Publishes raw bytes on the load topic from a host that runs no LoadGossip (an attacker's view). */
async function rawPublisher(target: MeshHost): Promise<MeshHost> {
  const h = await cleanup.host();
  await h.dial(multiaddr(hostAddrs(target)[0]));
  h.services.pubsub.subscribe(LOAD_TOPIC);
  await waitFor(() => h.services.pubsub.getSubscribers(LOAD_TOPIC).some((p) => p.equals(target.peerId)), 'the target to be subscribed');
  return h;
}

describe('load gossip', () => {
  it('three hosts see each other’s load reports (through a relay, too)', async () => {
    const hosts = await line(3);
    const gs = hosts.map((h) => gossipOn(h));
    hosts.forEach((h, i) => gs[i]?.publish(report(h.peerId.toString(), i)));
    await waitFor(() => gs.every((g) => g.table().size === 3), 'every table to list all three nodes');
    for (const g of gs) {
      hosts.forEach((h, i) => {
        const e = g.table().get(h.peerId.toString());
        expect(e).toMatchObject({ node: h.peerId.toString(), slots: 4, free: i, running: 4 - i, handlers: ['noop'], applied: 10 });
      });
    }
    // A change propagates too.
    const id0 = hosts[0]!.peerId.toString();
    gs[0]!.publish(report(id0, 3, ['noop', 'sleep']));
    await waitFor(() => gs[2]!.table().get(id0)?.free === 3, 'the changed report to reach the far end', 3_000);
    expect(gs[2]!.table().get(id0)?.handlers).toEqual(['noop', 'sleep']);
    expect(() => gs[0]!.publish(report(hosts[1]!.peerId.toString(), 1))).toThrow(/only publish its own/);
    expect(() => gs[0]!.publish({ ...report(id0, 1), free: -1 })).toThrow(/invalid load report/);
  });

  it('ignores a report forged for another node, and invalid ones', async () => {
    const [a, b] = await line(2);
    const ga = gossipOn(a!);
    // A generous rate limit: this test is about validation, not flooding.
    const gb = gossipOn(b!, { rateLimit: { burst: 50, perSecond: 50 } });
    const aId = a!.peerId.toString();
    ga.publish(report(aId, 2));
    await waitFor(() => gb.table().get(aId)?.free === 2, 'the genuine report');

    const evil = await rawPublisher(b!);
    const forged = { v: 1, ...report(aId, 0), at: Date.now() + 60_000 };
    await evil.services.pubsub.publish(LOAD_TOPIC, encoder.encode(JSON.stringify(forged)));
    await waitFor(() => gb.stats.rejectedForged === 1, 'the forged report to be rejected');

    const evilId = evil.peerId.toString();
    const bad = [
      'not json',
      JSON.stringify({ v: 1, ...report(evilId, 1), free: -1 }),
      JSON.stringify({ v: 1, ...report(evilId, 1), slots: 1.5 }),
      JSON.stringify({
        v: 1,
        ...report(
          evilId,
          1,
          Array.from({ length: 65 }, (_, i) => `h${i}`),
        ),
      }),
      JSON.stringify({ v: 1, ...report(evilId, 1, ['x'.repeat(65)]) }),
      JSON.stringify({ v: 2, ...report(evilId, 1) }),
    ];
    for (const text of bad) await evil.services.pubsub.publish(LOAD_TOPIC, encoder.encode(text));
    await waitFor(() => gb.stats.rejectedInvalid === bad.length, 'invalid reports to be rejected');
    expect(gb.table().has(evilId)).toBe(false);
    expect(gb.table().get(aId)?.free).toBe(2);
  });

  it('believes members only: a non-member’s valid report is counted and dropped, not relayed', async () => {
    const [a, b, c] = await line(3);
    const members = new Set([a!, b!, c!].map((h) => h.peerId.toString()));
    const isMember = (id: string): boolean => members.has(id);
    gossipOn(a!, { isMember });
    const gb = gossipOn(b!, { isMember, rateLimit: { burst: 50, perSecond: 50 } });
    const gc = gossipOn(c!, { isMember });

    // An outsider connected to b only: its report is well-formed and speaks for itself.
    const outsider = await rawPublisher(b!);
    const outsiderId = outsider.peerId.toString();
    const claim = { v: 1, ...report(outsiderId, 4) };
    await outsider.services.pubsub.publish(LOAD_TOPIC, encoder.encode(JSON.stringify(claim)));
    await waitFor(() => gb.stats.rejectedNotMember >= 1, 'the outsider’s report to be refused');
    expect(gb.table().has(outsiderId)).toBe(false);
    expect(gb.stats.accepted).toBe(0);

    // Once a member, the same sender is believed (the callback is asked per message, not cached).
    members.add(outsiderId);
    await outsider.services.pubsub.publish(LOAD_TOPIC, encoder.encode(JSON.stringify({ ...claim, at: claim.at + 1 })));
    await waitFor(() => gb.table().has(outsiderId), 'the new member’s report to be believed');
    // c hears the outsider only through b: believed reports are relayed (published again until
    // the mesh carries one to c), the refused one never was.
    let at = claim.at + 1;
    await waitFor(
      async () => {
        if (gc.table().has(outsiderId)) return true;
        await outsider.services.pubsub.publish(LOAD_TOPIC, encoder.encode(JSON.stringify({ ...claim, at: ++at })));
        return false;
      },
      'b to relay a believed report to c',
      10_000,
      250,
    );
    expect(gc.stats.rejectedNotMember).toBe(0);
  });

  it('refuses a member’s report with impossible numbers', async () => {
    const [b] = await line(1);
    const gb = gossipOn(b!, { rateLimit: { burst: 50, perSecond: 50 } });
    const member = await rawPublisher(b!);
    const id = member.peerId.toString();
    const lies = [
      { v: 1, ...report(id, 0), slots: 1e9, free: 1e9, running: 0 },
      { v: 1, ...report(id, 0), slots: 4, free: 5, running: 0 },
      { v: 1, ...report(id, 0), slots: 4, free: 0, running: 9 },
    ];
    for (const lie of lies) await member.services.pubsub.publish(LOAD_TOPIC, encoder.encode(JSON.stringify(lie)));
    await waitFor(() => gb.stats.rejectedInvalid === lies.length, 'the impossible reports to be refused');
    expect(gb.table().has(id)).toBe(false);
  });

  it('rate-limits a flooding sender', async () => {
    const [b] = await line(1);
    const gb = gossipOn(b!, { rateLimit: { burst: 3, perSecond: 1 } });
    const flood = await rawPublisher(b!);
    const id = flood.peerId.toString();
    for (let i = 0; i < 30; i++) {
      await flood.services.pubsub.publish(LOAD_TOPIC, encoder.encode(JSON.stringify({ v: 1, ...report(id, 1), at: i })));
    }
    await waitFor(() => gb.stats.accepted + gb.stats.droppedRateLimited === 30, 'all 30 to be judged');
    expect(gb.stats.accepted).toBeLessThanOrEqual(5);
    expect(gb.stats.droppedRateLimited).toBeGreaterThanOrEqual(25);
    expect(gb.table().has(id)).toBe(true);
  });

  it('expires entries older than staleAfterMs (injected clock)', async () => {
    const [a, b, c] = await line(3);
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const ga = gossipOn(a!);
    const gb = gossipOn(b!, { now });
    const gc = gossipOn(c!);
    const [aId, bId, cId] = [a!, b!, c!].map((h) => h.peerId.toString()) as [string, string, string];
    ga.publish({ ...report(aId, 1), name: 'alpha', api: 'http://127.0.0.1:7071' });
    gb.publish(report(bId, 1));
    gc.publish(report(cId, 1));
    await waitFor(() => gb.table().size === 3, 'all three entries');

    ga.stop();
    // Jump past the staleness bound (3 periods by default): every entry is stale at once.
    offset += 3 * PERIOD + 1;
    expect(gb.table().has(aId)).toBe(false);
    // c and b itself keep publishing every period and so come back; a never does.
    await waitFor(() => gb.table().has(cId) && gb.table().has(bId), 'the live entries to be refreshed');
    expect(gb.table().has(aId)).toBe(false);
    await waitFor(() => gb.stats.expired >= 1, 'the sweep to count the expiry');
    // Gone from the live table, a silent node is still known by its last report: its name, when it was heard.
    expect(gb.lastHeard().get(aId)).toMatchObject({ name: 'alpha', api: 'http://127.0.0.1:7071', receivedAt: expect.any(Number) });
  });
});
