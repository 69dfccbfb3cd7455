import { describe, expect, it, vi } from 'vitest';
import { commitOnly, RaftDriver, type RaftPersistence, type StateMachine } from '../../src/node/driver.js';
import { decodeEnvelope, envelope } from '../../src/node/entry-envelope.js';
import { ProposalError, type Decision } from '../../src/node/proposal.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig, type Entry, type Message } from '../../src/raft/types.js';
import { ManualTimers, storeOn } from './manual-timers.js';

type Update = Parameters<RaftPersistence['save']>[0];
const none: Update = { hardState: null, entries: [], snapshot: null, compaction: null, membership: null };
const entry: Entry = { index: 1, term: 1, type: 'normal', time: 0, proposer: 'a', data: new Uint8Array(0) };
const snap = { meta: { index: 1, term: 1, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) };

/** An entry the driver wraps around its request id: the node's envelope, a probe carrying `value`. */
const probe = (value: string) => envelope({ kind: 'probe', nonce: '', value });

/**
 * A state machine that records what it applies and, as ClusterState does, answers each entry with
 * the request id of its envelope; the decision is the probe's value.
 */
function recorder(entries: Entry[] = []): StateMachine<string> {
  return {
    restore: () => undefined,
    apply(e: Entry): Decision<string> | undefined {
      entries.push(e);
      const d = e.data.length > 0 ? decodeEnvelope(e.data) : null;
      if (d?.ok && d.value.entry.kind === 'probe') return { request: d.value.request, result: d.value.entry.value };
      return undefined;
    },
  };
}

/** Lets the promise callbacks of what the timers settled run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function untilLeader(driver: RaftDriver): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (driver.status().role !== 'leader' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
}

describe('commitOnly', () => {
  const prev = { term: 2, vote: 'a', commit: 5 };
  it('holds when only the commit index changed', () => {
    expect(commitOnly({ ...none, hardState: { term: 2, vote: 'a', commit: 7 } }, prev)).toBe(true);
  });
  it('does not hold for a term or vote change, anything else to write, or before the first write', () => {
    expect(commitOnly({ ...none, hardState: { term: 3, vote: 'a', commit: 7 } }, prev)).toBe(false);
    expect(commitOnly({ ...none, hardState: { term: 2, vote: null, commit: 7 } }, prev)).toBe(false);
    expect(commitOnly({ ...none, hardState: { term: 2, vote: 'a', commit: 7 } }, null)).toBe(false);
    expect(commitOnly({ ...none, hardState: { term: 2, vote: 'a', commit: 7 }, entries: [entry] }, prev)).toBe(false);
    expect(commitOnly({ ...none, hardState: { term: 2, vote: 'a', commit: 7 }, snapshot: snap }, prev)).toBe(false);
    expect(commitOnly({ ...none, hardState: { term: 2, vote: 'a', commit: 7 }, compaction: snap }, prev)).toBe(false);
    expect(commitOnly({ ...none, hardState: null, entries: [entry] }, prev)).toBe(false);
  });
});

describe('RaftDriver', () => {
  it('writes a commit-index-only change without fsync and does not wait for it', async () => {
    const saves: { update: Update; sync: boolean }[] = [];
    const storage: RaftPersistence = {
      save(update, opts) {
        const sync = opts?.sync ?? true;
        saves.push({ update, sync });
        // Unsynced writes never complete here: the driver must not need them to.
        return sync ? Promise.resolve() : new Promise<void>(() => undefined);
      },
    };
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', rng: new SeededRng(1) }, null, { voters: ['a'], learners: [] });
    const entries: Entry[] = [];
    const driver = new RaftDriver({ raft, storage, send: () => undefined, machine: recorder(entries) });
    driver.campaign();
    await untilLeader(driver);
    const first = await driver.propose(probe('x'), { timeoutMs: 5_000 });
    const second = await driver.propose(probe('y'), { timeoutMs: 5_000 });
    expect(second).toEqual({ index: first.index + 1, result: 'y' });
    expect(entries.map((e) => e.index)).toContain(second.index);
    const unsynced = saves.filter((s) => !s.sync);
    expect(unsynced.length).toBeGreaterThan(0);
    for (const s of unsynced) expect(commitOnly(s.update, { term: raft.status().term, vote: 'a', commit: 0 })).toBe(true);
    // Everything else (entries, the term and vote) went through synced writes.
    expect(saves.filter((s) => s.sync && s.update.entries.length > 0).length).toBeGreaterThanOrEqual(2);
    driver.stop();
  });
});

describe('RaftDriver.propose', () => {
  it("forwards a follower's proposal to the leader and answers it when the entry is applied here, with the machine's decision", async () => {
    const drivers = new Map<string, RaftDriver<string>>();
    const send = (msgs: readonly Message[]): void => {
      for (const m of msgs) setImmediate(() => drivers.get(m.to)?.receive(m));
    };
    const storage: RaftPersistence = { save: () => Promise.resolve() };
    for (const [id, seed] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      const raft = new RaftNode({ ...defaultRaftConfig, id, rng: new SeededRng(seed) }, null, { voters: ['a', 'b'], learners: [] });
      drivers.set(
        id,
        new RaftDriver({
          raft,
          storage,
          send,
          machine: recorder(),
          timers: { after: (ms, fn) => ({ cancel: clearTimeout.bind(null, setTimeout(fn, ms)) }) },
        }),
      );
    }
    const [a, b] = [drivers.get('a') as RaftDriver<string>, drivers.get('b') as RaftDriver<string>];
    a.start(10);
    b.start(10);
    a.campaign();
    await untilLeader(a);
    while (b.status().leader !== 'a') await new Promise((r) => setImmediate(r));
    const answer = await b.propose(probe('from b'), { timeoutMs: 5_000 });
    expect(answer.result).toBe('from b');
    expect(b.status().applied).toBeGreaterThanOrEqual(answer.index);
    a.stop();
    b.stop();
  });

  it("answers only this node's own entries: another member's entry with the same request id leaves the wait open", async () => {
    const timers = new ManualTimers();
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(1) }, null, { voters: ['a', 'b'], learners: [] });
    const driver = new RaftDriver({ raft, storage: storeOn(timers), timers, readTag: 't', send: () => undefined, machine: recorder() });
    driver.receive({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
    const outcomes: string[] = [];
    driver.propose(probe('mine'), { timeoutMs: 1_000 }).then(
      (c) => outcomes.push(`answered ${c.result}`),
      (e: unknown) => outcomes.push((e as ProposalError).reason),
    );
    timers.advanceTo(1);
    // The leader appends and commits an entry proposed by a, carrying the request id b drew ('t.1').
    const forged = {
      index: 1,
      term: 1,
      type: 'normal' as const,
      time: 0,
      proposer: 'a',
      data: envelope({ kind: 'probe', nonce: '', value: 'forged' })('t.1'),
    };
    driver.receive({ type: 'app', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, entries: [forged], commit: 1 });
    timers.advanceTo(10);
    await settle();
    expect(driver.status().applied).toBe(1);
    expect(outcomes).toEqual([]);
    timers.advanceTo(1_001);
    await settle();
    expect(outcomes).toEqual(['timeout']);
    driver.stop();
  });

  it('ends a wait as lost once an entry of a later term is applied (the proposal can no longer come), and every wait when the node stops', async () => {
    const timers = new ManualTimers();
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(1) }, null, { voters: ['a', 'b', 'c'], learners: [] });
    const sent: Message[] = [];
    const driver = new RaftDriver({ raft, storage: storeOn(timers), timers, send: (m) => sent.push(...m), machine: recorder() });
    driver.receive({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
    const outcomes: string[] = [];
    const note = (p: Promise<unknown>): void =>
      void p.then(
        () => outcomes.push('answered'),
        (e: unknown) => outcomes.push((e as ProposalError).reason),
      );
    note(driver.propose(probe('lost'), { timeoutMs: 60_000 }));
    timers.advanceTo(1);
    // It left for a in term 1; a went away and c, leader of term 2, commits its own entry instead.
    expect(sent.some((m) => m.type === 'prop')).toBe(true);
    const noop = { index: 1, term: 2, type: 'normal' as const, time: 0, proposer: 'c', data: new Uint8Array(0) };
    driver.receive({ type: 'app', from: 'c', to: 'b', term: 2, prevIndex: 0, prevTerm: 0, entries: [noop], commit: 1 });
    timers.advanceTo(10);
    await settle();
    expect(outcomes).toEqual(['lost']);
    note(driver.propose(probe('pending'), { timeoutMs: 60_000 }));
    timers.advanceTo(20);
    driver.stop();
    await settle();
    expect(outcomes).toEqual(['lost', 'stopped']);
    await expect(driver.propose(probe('after'), { timeoutMs: 1 })).rejects.toMatchObject({ reason: 'stopped' });
  });

  it('refuses at once what the core refuses, and past its limit of waiting proposals, without proposing', async () => {
    const timers = new ManualTimers();
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(1) }, null, { voters: ['a', 'b'], learners: [] });
    const sent: Message[] = [];
    const driver = new RaftDriver({
      raft,
      storage: storeOn(timers),
      timers,
      waitLimit: 2,
      send: (m) => sent.push(...m),
      machine: recorder(),
    });
    await expect(driver.propose(probe('no leader'), { timeoutMs: 100 })).rejects.toMatchObject({ reason: 'no-leader' });
    driver.receive({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
    const outcomes: string[] = [];
    for (const v of ['1', '2', '3'])
      driver.propose(probe(v), { timeoutMs: 100 }).catch((e: unknown) => outcomes.push(`${v}:${(e as ProposalError).reason}`));
    timers.advanceTo(1);
    const forwarded = sent.flatMap((m) => (m.type === 'prop' ? m.entries : []));
    expect(forwarded).toHaveLength(2);
    timers.advanceTo(101);
    await settle();
    expect(outcomes.sort()).toEqual(['1:timeout', '2:timeout', '3:busy']);
    driver.stop();
  });

  it('stamps entries with its clock at the moment of the proposal, not of the last tick', async () => {
    let clock = 10_000;
    const storage: RaftPersistence = { save: () => Promise.resolve() };
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', rng: new SeededRng(1) }, null, { voters: ['a'], learners: [] });
    const entries: Entry[] = [];
    const driver = new RaftDriver({ raft, storage, now: () => clock, send: () => undefined, machine: recorder(entries) });
    driver.tick();
    driver.campaign();
    await untilLeader(driver);
    // No tick after these clock moves: before the driver fed its clock to the core both entries carried 10,000.
    clock = 10_003;
    const first = await driver.propose(probe('1'), { timeoutMs: 5_000 });
    clock = 10_017;
    const second = await driver.propose(probe('2'), { timeoutMs: 5_000 });
    expect(entries.find((e) => e.index === first.index)?.time).toBe(10_003);
    expect(entries.find((e) => e.index === second.index)?.time).toBe(10_017);
    // Proposals nobody waits for get the same treatment.
    clock = 10_021;
    const r = driver.proposeAndForget(probe('3')('forgotten.1'));
    expect(r.ok && 'index' in r).toBe(true);
    const third = r.ok && 'index' in r ? r.index : -1;
    const deadline = Date.now() + 5_000;
    while (!entries.some((e) => e.index === third) && Date.now() < deadline) await new Promise((res) => setImmediate(res));
    expect(entries.find((e) => e.index === third)?.time).toBe(10_021);
    driver.stop();
  });
});

describe('RaftDriver on injected ports', () => {
  it('ticks, runs its cycles, waits for writes and times reads out on the timers it is given, and no others', () => {
    const timers = new ManualTimers();
    const globals = [vi.spyOn(globalThis, 'setTimeout'), vi.spyOn(globalThis, 'setInterval'), vi.spyOn(globalThis, 'setImmediate')];
    // A write is durable 3 ms after it was handed over, on the same timers.
    const storage = storeOn(timers, 3);
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', electionTicks: 10, rng: new SeededRng(1) }, null, {
      voters: ['a'],
      learners: [],
    });
    const applied: number[] = [];
    const driver = new RaftDriver({
      raft,
      storage,
      timers,
      now: () => 1_000 + timers.now,
      send: () => undefined,
      machine: { restore: () => undefined, apply: (e) => void applied.push(e.index) },
    });
    driver.start(10);
    // Nothing moves until the timers do: 10 ticks of 10 ms (up to twice that, randomized) elect the single voter.
    expect(raft.status().role).toBe('follower');
    timers.advanceTo(500);
    expect(raft.status().role).toBe('leader');
    const answers: (number | string)[] = [];
    driver.requestReadIndex({ resolve: (i) => answers.push(i), reject: (e) => answers.push(e.message) }, 100);
    expect(answers).toEqual([]);
    timers.advanceTo(510);
    expect(answers).toEqual([Math.max(...applied)]);
    // A follower that hears a leader but never an answer: the read times out on the injected timers.
    const b = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(2) }, null, { voters: ['x', 'b'], learners: [] });
    const follower = new RaftDriver({
      raft: b,
      storage,
      timers,
      send: () => undefined,
      machine: { restore: () => undefined, apply: () => undefined },
    });
    follower.receive({ type: 'heartbeat', from: 'x', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
    follower.requestReadIndex({ resolve: (i) => answers.push(i), reject: (e) => answers.push(e.message) }, 100);
    timers.advanceTo(609);
    expect(answers).toHaveLength(1);
    timers.advanceTo(610);
    expect(answers[1]).toMatch(/within 100 ms/);
    driver.stop();
    follower.stop();
    for (const g of globals) {
      expect(g).not.toHaveBeenCalled();
      g.mockRestore();
    }
  });
});

describe('RaftDriver reads across a restart', () => {
  it("does not take an answer meant for the previous incarnation's read for its own", () => {
    const timers = new ManualTimers();
    const storage = storeOn(timers);
    /** Node b, a follower of x, as one process start: its driver and the reads it sent. */
    const incarnation = () => {
      const raft = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(1) }, null, { voters: ['x', 'b'], learners: [] });
      const sent: Message[] = [];
      const driver = new RaftDriver({
        raft,
        storage,
        timers,
        send: (msgs) => sent.push(...msgs),
        machine: { restore: () => undefined, apply: () => undefined },
      });
      driver.receive({ type: 'heartbeat', from: 'x', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
      const answers: number[] = [];
      driver.requestReadIndex({ resolve: (i) => answers.push(i), reject: () => undefined }, 1000);
      timers.advanceTo(timers.now + 1);
      const asked = sent.find((m): m is Extract<Message, { type: 'readIndex' }> => m.type === 'readIndex');
      return { driver, answers, ctx: asked?.ctx ?? '' };
    };
    const before = incarnation();
    // b restarts before x answers; x answers the first incarnation's read after the second one asked.
    const after = incarnation();
    expect(after.ctx).not.toBe(before.ctx);
    const answer = (ctx: string, index: number): void =>
      after.driver.receive({ type: 'readIndexResp', from: 'x', to: 'b', term: 1, ctx, index, reject: false, leader: '' });
    answer(before.ctx, 0);
    timers.advanceTo(timers.now + 1);
    expect(after.answers).toEqual([]);
    answer(after.ctx, 0);
    timers.advanceTo(timers.now + 1);
    expect(after.answers).toEqual([0]);
    before.driver.stop();
    after.driver.stop();
  });
});

describe('RaftDriver.requestWhen', () => {
  it('answers a condition on its state after the cycle that makes it hold, false at its deadline, and as it stands when stopped', () => {
    const timers = new ManualTimers();
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', electionTicks: 10, rng: new SeededRng(1) }, null, {
      voters: ['a'],
      learners: [],
    });
    const driver = new RaftDriver({
      raft,
      storage: storeOn(timers, 3),
      timers,
      now: () => 1_000 + timers.now,
      send: () => undefined,
      machine: { restore: () => undefined, apply: () => undefined },
    });
    const answers: string[] = [];
    const note = (what: string) => ({
      resolve: (ok: boolean) => answers.push(`${what}: ${ok}`),
      reject: () => answers.push(`${what}: threw`),
    });
    driver.requestWhen(() => driver.status().role === 'follower', 1000, note('follower now'));
    expect(answers).toEqual(['follower now: true']);
    driver.requestWhen(() => driver.status().role === 'leader', 1000, note('leader'));
    driver.requestWhen(() => driver.status().term > 5, 700, note('term 6'));
    driver.requestWhen(() => driver.status().term > 7, 5000, note('term 8'));
    driver.start(10);
    // The election's cycles make `leader` hold; nothing polled in between (the timers ran only the driver's own).
    timers.advanceTo(500);
    expect(answers).toEqual(['follower now: true', 'leader: true']);
    timers.advanceTo(700);
    expect(answers).toEqual(['follower now: true', 'leader: true', 'term 6: false']);
    driver.stop();
    expect(answers).toEqual(['follower now: true', 'leader: true', 'term 6: false', 'term 8: false']);
  });
});
