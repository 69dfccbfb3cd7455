import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { at } from '../../src/invariant.js';
import { decideMembership, defaultMembershipPolicy, type MembershipPolicy, type MembershipView } from '../../src/node/membership.js';
import { quorumSize } from '../../src/raft/progress.js';
import type { ConfState } from '../../src/raft/types.js';

const policy: MembershipPolicy = { ...defaultMembershipPolicy, targetVoters: 3 };
const NOW = 100_000;

/** A view where everyone is caught up, addressed and heard from just now, unless overridden. */
function view(
  conf: ConfState,
  over: Partial<MembershipView> & { silent?: Record<string, number>; behind?: Record<string, number>; inactive?: readonly string[] } = {},
): MembershipView {
  const all = [...conf.voters, ...conf.learners];
  const lastIndex = over.lastIndex ?? 1000;
  const progress = new Map(
    all.map((id) => [id, { match: lastIndex - (over.behind?.[id] ?? 0), recentActive: !(over.inactive ?? []).includes(id) }]),
  );
  const lastHeard = new Map(all.map((id) => [id, NOW - (over.silent?.[id] ?? 0)]));
  return {
    self: 'a',
    conf,
    lastIndex,
    progress,
    confPending: false,
    hasAddress: () => true,
    lastHeard,
    now: NOW,
    ledForMs: 60_000,
    lostDisk: new Set(),
    ...over,
  };
}

describe('decideMembership', () => {
  it('demotes a voter that lost what it acknowledged before anything else', () => {
    const conf = { voters: ['a', 'b', 'c'], learners: ['d'] };
    // No caught-up learner to take its seat: demoted at once, even to two voters.
    expect(decideMembership(view(conf, { lostDisk: new Set(['b']), behind: { d: 500 } }), policy)).toMatchObject({
      type: 'demote',
      node: 'b',
    });
    // With voters to spare, demoted at once, above the target or not.
    expect(decideMembership(view({ voters: ['a', 'b', 'c', 'd'], learners: [] }, { lostDisk: new Set(['b']) }), policy)).toMatchObject({
      type: 'demote',
      node: 'b',
    });
    // Never itself, and a learner has no vote to take away.
    expect(decideMembership(view(conf, { lostDisk: new Set(['a', 'd']) }), policy)).toBeNull();
  });

  it('promotes a successor first when demoting a voter that lost what it acknowledged would leave fewer than three', () => {
    const conf = { voters: ['a', 'b', 'c'], learners: ['d'] };
    expect(decideMembership(view(conf, { lostDisk: new Set(['b']) }), policy)).toMatchObject({ type: 'promote', node: 'd' });
    // Once the successor votes, the lost one goes.
    expect(decideMembership(view({ voters: ['a', 'b', 'c', 'd'], learners: [] }, { lostDisk: new Set(['b']) }), policy)).toMatchObject({
      type: 'demote',
      node: 'b',
    });
  });

  it('holds a lost-acknowledgement demotion while the voters it would leave have no active quorum', () => {
    const conf = { voters: ['a', 'b', 'c'], learners: [] };
    // c is down (not heard within the last election timeout): [a, c] could change nothing any more.
    expect(decideMembership(view(conf, { lostDisk: new Set(['b']), inactive: ['c'] }), policy)).toBeNull();
    expect(decideMembership(view(conf, { lostDisk: new Set(['b']), silent: { c: 5000 } }), policy)).toBeNull();
    // A leader of a moment cannot tell who is up yet.
    expect(decideMembership(view(conf, { lostDisk: new Set(['b']), ledForMs: 10 }), policy)).toBeNull();
    expect(decideMembership(view(conf, { lostDisk: new Set(['b']) }), policy)).toMatchObject({ type: 'demote', node: 'b' });
  });

  it('promotes a caught-up learner while voters are below the target', () => {
    expect(decideMembership(view({ voters: ['a'], learners: ['b'] }), policy)).toMatchObject({ type: 'promote', node: 'b' });
    expect(decideMembership(view({ voters: ['a', 'b'], learners: ['c', 'd'] }), policy)).toMatchObject({ type: 'promote', node: 'c' });
  });

  it('prefers the most caught-up learner, then the smallest id', () => {
    const v = view({ voters: ['a'], learners: ['d', 'c', 'b'] }, { behind: { b: 50, c: 10, d: 10 } });
    expect(decideMembership(v, policy)).toMatchObject({ type: 'promote', node: 'c' });
  });

  it('does not promote a learner that is behind, silent, or without an address', () => {
    expect(decideMembership(view({ voters: ['a'], learners: ['b'] }, { behind: { b: 101 } }), policy)).toBeNull();
    expect(decideMembership(view({ voters: ['a'], learners: ['b'] }, { silent: { b: 3001 } }), policy)).toBeNull();
    expect(decideMembership(view({ voters: ['a'], learners: ['b'] }, { hasAddress: (id) => id !== 'b' }), policy)).toBeNull();
    // Within the slack counts as caught up.
    expect(decideMembership(view({ voters: ['a'], learners: ['b'] }, { behind: { b: 100 } }), policy)).toMatchObject({ node: 'b' });
  });

  it('leaves learners beyond the target alone', () => {
    expect(decideMembership(view({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] }), policy)).toBeNull();
  });

  it('does nothing while a membership change is pending', () => {
    expect(decideMembership(view({ voters: ['a'], learners: ['b'] }, { confPending: true }), policy)).toBeNull();
    const dead = view({ voters: ['a', 'b', 'c', 'd'], learners: [] }, { confPending: true, silent: { d: 60_000 } });
    expect(decideMembership(dead, policy)).toBeNull();
  });

  it('does nothing when the leader is not a voter', () => {
    expect(decideMembership(view({ voters: ['b', 'c'], learners: ['a', 'd'] }), policy)).toBeNull();
  });

  it('replaces an unreachable voter: promote the successor first, then demote the dead one', () => {
    const conf1 = { voters: ['a', 'b', 'c'], learners: ['d'] };
    const first = decideMembership(view(conf1, { silent: { c: 31_000 } }), policy);
    expect(first).toMatchObject({ type: 'promote', node: 'd' });
    expect(first?.why).toContain('replaces c');
    const conf2 = { voters: ['a', 'b', 'c', 'd'], learners: [] };
    expect(decideMembership(view(conf2, { silent: { c: 32_000 } }), policy)).toMatchObject({ type: 'demote', node: 'c' });
  });

  it('promotes a voter re-admitted as a learner for its lost store again only once it has caught up', () => {
    // b came back with an empty store: the join re-admitted it as a learner, and it is replaying the log.
    const conf = { voters: ['a', 'c'], learners: ['b'] };
    expect(decideMembership(view(conf, { behind: { b: 900 } }), policy)).toBeNull();
    expect(decideMembership(view(conf, { behind: { b: 10 } }), policy)).toMatchObject({ type: 'promote', node: 'b' });
  });

  it('does not replace a voter silent for less than the setting', () => {
    expect(decideMembership(view({ voters: ['a', 'b', 'c'], learners: ['d'] }, { silent: { c: 29_000 } }), policy)).toBeNull();
    const quick = { ...policy, replaceAfterMs: 5000 };
    expect(decideMembership(view({ voters: ['a', 'b', 'c'], learners: ['d'] }, { silent: { c: 6000 } }), quick)).toMatchObject({
      node: 'd',
    });
  });

  it('does not demote a dead voter without a promoted replacement', () => {
    expect(decideMembership(view({ voters: ['a', 'b', 'c'], learners: [] }, { silent: { c: 60_000 } }), policy)).toBeNull();
    // The only learner is behind: no replacement yet.
    expect(
      decideMembership(view({ voters: ['a', 'b', 'c'], learners: ['d'] }, { silent: { c: 60_000 }, behind: { d: 5000 } }), policy),
    ).toBeNull();
  });

  it('never promotes when the larger voter set would lack a reachable quorum', () => {
    // a, d reachable of a, b, c, d: 2 < 3.
    const v = view({ voters: ['a', 'b', 'c'], learners: ['d'] }, { silent: { b: 10_000, c: 60_000 } });
    expect(decideMembership(v, policy)).toBeNull();
  });

  it('never demotes when the rest would lack a reachable quorum', () => {
    // Voters a..e with target 3: demoting the most silent (e) leaves a, b, c, d with only a, b reachable.
    const v = view({ voters: ['a', 'b', 'c', 'd', 'e'], learners: [] }, { silent: { c: 10_000, d: 10_000, e: 60_000 } });
    expect(decideMembership(v, policy)).toBeNull();
  });

  it('brings voters above the target back down, never demoting itself', () => {
    const v = view({ voters: ['a', 'b', 'c', 'd'], learners: [] }, { behind: { b: 5, c: 1, d: 9 } });
    expect(decideMembership(v, policy)).toMatchObject({ type: 'demote', node: 'd' });
    const one = { ...policy, targetVoters: 1 };
    const only = decideMembership(view({ voters: ['a', 'b'], learners: [] }), one);
    expect(only).toMatchObject({ type: 'demote', node: 'b' });
  });

  it('treats a peer never heard from as unreachable', () => {
    const v = view({ voters: ['a', 'b', 'c'], learners: ['d'] });
    const lastHeard = new Map(v.lastHeard);
    lastHeard.delete('c');
    expect(decideMembership({ ...v, lastHeard }, policy)).toMatchObject({
      type: 'promote',
      node: 'd',
      why: expect.stringContaining('never heard'),
    });
  });

  describe('properties', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const arbView = fc
      .record({
        split: fc.subarray(ids.slice(1), { minLength: 0 }),
        memberMask: fc.array(fc.boolean(), { minLength: ids.length - 1, maxLength: ids.length - 1 }),
        silences: fc.array(fc.constantFrom(0, 1000, 2999, 3001, 20_000, 30_001, 90_000), { minLength: ids.length, maxLength: ids.length }),
        behinds: fc.array(fc.constantFrom(0, 50, 100, 101, 10_000), { minLength: ids.length, maxLength: ids.length }),
        target: fc.constantFrom(1, 3, 5),
        pending: fc.boolean(),
      })
      .map(({ split, memberMask, silences, behinds, target, pending }) => {
        const members = ids.slice(1).filter((_, k) => memberMask[k]);
        const voters = ['a', ...members.filter((m) => split.includes(m))];
        const learners = members.filter((m) => !split.includes(m));
        const silent = Object.fromEntries(ids.map((id, k) => [id, at(silences, k, 'one per node')]));
        const behind = Object.fromEntries(ids.map((id, k) => [id, at(behinds, k, 'one per node')]));
        return { v: view({ voters, learners }, { silent: { ...silent, a: 0 }, behind, confPending: pending }), target };
      });

    it('every action keeps a reachable quorum and respects its preconditions', () => {
      fc.assert(
        fc.property(arbView, ({ v, target }) => {
          const p = { ...policy, targetVoters: target };
          const act = decideMembership(v, p);
          if (act === null) return;
          expect(v.confPending).toBe(false);
          const reachable = (id: string) => id === v.self || v.now - (v.lastHeard.get(id) ?? -Infinity) <= p.liveWithinMs;
          let after: string[];
          if (act.type === 'promote') {
            expect(v.conf.learners).toContain(act.node);
            expect(reachable(act.node)).toBe(true);
            expect(v.progress.get(act.node)?.match ?? 0).toBeGreaterThanOrEqual(v.lastIndex - p.catchUpEntries);
            expect(v.conf.voters.length).toBeLessThanOrEqual(target);
            after = [...v.conf.voters, act.node];
          } else {
            expect(v.conf.voters).toContain(act.node);
            expect(act.node).not.toBe(v.self);
            expect(v.conf.voters.length).toBeGreaterThan(target);
            after = v.conf.voters.filter((x) => x !== act.node);
          }
          expect(after.filter(reachable).length).toBeGreaterThanOrEqual(quorumSize(after.length));
        }),
        { numRuns: 2000 },
      );
    });

    it('applying decisions repeatedly converges to the target without ever losing the reachable quorum', () => {
      fc.assert(
        fc.property(arbView, ({ v, target }) => {
          const p = { ...policy, targetVoters: target };
          let conf: ConfState = v.conf;
          const reachable = (id: string) => id === v.self || v.now - (v.lastHeard.get(id) ?? -Infinity) <= p.liveWithinMs;
          const hadQuorum = conf.voters.filter(reachable).length >= quorumSize(conf.voters.length);
          for (let step = 0; step < 20; step++) {
            const act = decideMembership({ ...v, conf, confPending: false }, p);
            if (act === null) break;
            conf =
              act.type === 'promote'
                ? { voters: [...conf.voters, act.node], learners: conf.learners.filter((x) => x !== act.node) }
                : { voters: conf.voters.filter((x) => x !== act.node), learners: [...conf.learners, act.node] };
            if (hadQuorum) expect(conf.voters.filter(reachable).length).toBeGreaterThanOrEqual(quorumSize(conf.voters.length));
            expect(step).toBeLessThan(19); // no oscillation
          }
          expect(conf.voters).toContain(v.self);
          expect(conf.voters.length).toBeLessThanOrEqual(Math.max(target, v.conf.voters.length));
        }),
        { numRuns: 1000 },
      );
    });
  });
});
