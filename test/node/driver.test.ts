import { describe, expect, it, vi } from 'vitest';
import { commitOnly, RaftDriver, type RaftPersistence } from '../../src/node/driver.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig, type Entry, type Message } from '../../src/raft/types.js';
import { ManualTimers, storeOn } from './manual-timers.js';

type Update = Parameters<RaftPersistence['save']>[0];
const none: Update = { hardState: null, entries: [], snapshot: null, compaction: null, membership: null };
const entry: Entry = { index: 1, term: 1, type: 'normal', time: 0, proposer: 'a', data: new Uint8Array(0) };
const snap = { meta: { index: 1, term: 1, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) };

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
    const applied: number[] = [];
    const driver = new RaftDriver({ raft, storage, send: () => undefined, machine: { restore: () => undefined, apply: (e) => applied.push(e.index) } });
    raft.campaign();
    driver.kick();
    const data = new TextEncoder().encode('x');
    const deadline = Date.now() + 5_000;
    while (raft.status().role !== 'leader' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const first = await driver.propose(data);
    const second = await driver.propose(data);
    expect(second).toBe(first + 1);
    expect(applied).toContain(second);
    const unsynced = saves.filter((s) => !s.sync);
    expect(unsynced.length).toBeGreaterThan(0);
    for (const s of unsynced) expect(commitOnly(s.update, { term: raft.status().term, vote: 'a', commit: 0 })).toBe(true);
    // Everything else (entries, the term and vote) went through synced writes.
    expect(saves.filter((s) => s.sync && s.update.entries.length > 0).length).toBeGreaterThanOrEqual(2);
    driver.stop();
  });
});


describe('RaftDriver.propose on a follower', () => {
  it('says the proposal was forwarded rather than refused, since it may still commit', async () => {
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(1) }, null, { voters: ['a', 'b'], learners: [] });
    // b hears a leader, so its core forwards proposals instead of refusing them.
    raft.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
    const storage: RaftPersistence = { save: () => Promise.resolve() };
    const driver = new RaftDriver({ raft, storage, send: () => undefined, machine: { restore: () => undefined, apply: () => undefined } });
    await expect(driver.propose(new Uint8Array([1]))).rejects.toMatchObject({ reason: 'forwarded' });
    driver.stop();
  });

  it('stamps entries with its clock at the moment of the proposal, not of the last tick', async () => {
    let clock = 10_000;
    const storage: RaftPersistence = { save: () => Promise.resolve() };
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', rng: new SeededRng(1) }, null, { voters: ['a'], learners: [] });
    const entries: Entry[] = [];
    const driver = new RaftDriver({ raft, storage, now: () => clock, send: () => undefined, machine: { restore: () => undefined, apply: (e) => entries.push(e) } });
    driver.tick();
    raft.campaign();
    driver.kick();
    const deadline = Date.now() + 5_000;
    while (raft.status().role !== 'leader' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    // No tick after these clock moves: before observeTime both entries carried 10,000.
    clock = 10_003;
    const first = await driver.propose(new Uint8Array([1]));
    clock = 10_017;
    const second = await driver.propose(new Uint8Array([2]));
    expect(entries.find((e) => e.index === first)?.time).toBe(10_003);
    expect(entries.find((e) => e.index === second)?.time).toBe(10_017);
    // Proposals handed to the core directly get the same treatment through driver.observeTime().
    clock = 10_021;
    driver.observeTime();
    const r = raft.propose(new Uint8Array([3]));
    driver.kick();
    expect(r.ok && 'index' in r).toBe(true);
    const third = r.ok && 'index' in r ? r.index : -1;
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
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', electionTicks: 10, rng: new SeededRng(1) }, null, { voters: ['a'], learners: [] });
    const applied: number[] = [];
    const driver = new RaftDriver({
      raft, storage, timers, now: () => 1_000 + timers.now, send: () => undefined,
      machine: { restore: () => undefined, apply: (e) => applied.push(e.index) },
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
    const follower = new RaftDriver({ raft: b, storage, timers, send: () => undefined, machine: { restore: () => undefined, apply: () => undefined } });
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
      const driver = new RaftDriver({ raft, storage, timers, send: (msgs) => sent.push(...msgs), machine: { restore: () => undefined, apply: () => undefined } });
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
