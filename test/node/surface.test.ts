import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RaftDriver, ReadIndexError, type RaftPersistence } from '../../src/node/driver.js';
import { ClusterState } from '../../src/node/cluster-state.js';
import { envelope } from '../../src/node/entry-envelope.js';
import { nodesView } from '../../src/node/surface-backend.js';
import { readLocalLog, taskLog, type TaskLogDeps } from '../../src/node/task-logs.js';
import { decodeLogRequest, type LogAnswer } from '../../src/net/logs.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig } from '../../src/raft/types.js';
import type { NodeView, TaskView } from '../../src/scheduler/types.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(os.tmpdir(), 'meshrun-surface-'));
  dirs.push(d);
  return d;
}

describe('nodesView', () => {
  const nv = (id: string, used: number): NodeView => ({
    id,
    boot: 1,
    slots: 4,
    ahead: 0,
    handlers: ['noop'],
    labels: {},
    leaseMs: 5000,
    leaseUntil: 9000,
    heartbeatSeq: 3,
    used,
    running: used,
  });
  it('gives members their Raft role, merges heartbeats and gossip, and lists non-members with role null', () => {
    const gossip = new Map([
      ['b', { node: 'b', slots: 4, free: 3, running: 1, handlers: ['noop'], applied: 40, at: 1, receivedAt: 500 }],
      ['x', { node: 'x', slots: 2, free: 2, running: 0, handlers: [], applied: 10, at: 1, receivedAt: 600 }],
    ]);
    const out = nodesView({
      self: 'a',
      leader: 'b',
      membership: { conf: { voters: ['a', 'b'], learners: ['c'] } },
      applied: 42,
      scheduler: [nv('a', 1), nv('b', 2), nv('c', 0)],
      gossip,
      addressesOf: (id) => [`/ip4/127.0.0.1/tcp/1/p2p/${id}`],
    });
    expect(out.map((n) => [n.id, n.role, n.self])).toEqual([
      ['a', 'voter', true],
      ['b', 'leader', false],
      ['c', 'learner', false],
      ['x', null, false],
    ]);
    expect(out[1]).toMatchObject({ slots: 4, used: 2, free: 2, running: 2, lastSeen: 500, applied: 40, leaseUntil: 9000, heartbeatSeq: 3 });
    expect(out[0]).toMatchObject({ applied: 42, lastSeen: null });
    expect(out[3]).toMatchObject({ slots: 2, used: null, free: 2, leaseUntil: null });
  });

  it('says which nodes are down and since when, and keeps the name of a silent node', () => {
    const report = (node: string, receivedAt: number, extra: object = {}) => ({
      node,
      slots: 4,
      free: 4,
      running: 0,
      handlers: [],
      applied: 1,
      at: 1,
      receivedAt,
      ...extra,
    });
    const out = nodesView({
      self: 'a',
      leader: 'a',
      membership: { conf: { voters: ['a', 'b', 'c', 'd'], learners: [] } },
      applied: 42,
      // b: live gossip; c: its lease holds (9000 > 8000), no gossip; d: silent since 7000, lease ran out
      scheduler: [nv('a', 0), nv('b', 0), nv('c', 0), { ...nv('d', 0), leaseUntil: 6000 }],
      gossip: new Map([['b', report('b', 7900, { name: 'beta', api: 'http://127.0.0.1:7072', logBytes: 12 })]]),
      heard: new Map([
        ['b', report('b', 7900, { name: 'beta', api: 'http://127.0.0.1:7072', logBytes: 12 })],
        ['d', report('d', 7000, { name: 'delta', api: 'http://127.0.0.1:7074' })],
      ]),
      schedulerNow: 8000,
      own: { name: 'alpha', api: 'http://127.0.0.1:7071', logBytes: 5 },
      addressesOf: () => [],
    });
    expect(out.map((n) => [n.id, n.name, n.state, n.downSince])).toEqual([
      ['a', 'alpha', 'up', null],
      ['b', 'beta', 'up', null],
      ['c', null, 'up', null],
      ['d', 'delta', 'down', 7000],
    ]);
    expect(out[0]).toMatchObject({ api: 'http://127.0.0.1:7071', logBytes: 5 });
    expect(out[1]).toMatchObject({ api: 'http://127.0.0.1:7072', logBytes: 12, lastSeen: 7900 });
    expect(out[3]).toMatchObject({ api: 'http://127.0.0.1:7074', logBytes: null, lastSeen: null });
  });
});

describe('RaftDriver.readIndex', () => {
  const storage: RaftPersistence = { save: () => Promise.resolve() };
  it('resolves on a single-voter leader with an index it has applied', async () => {
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'a', rng: new SeededRng(1) }, null, { voters: ['a'], learners: [] });
    const applied: number[] = [];
    const state = new ClusterState();
    state.onApplied((a) => applied.push(a.index));
    const driver = new RaftDriver({ raft, storage, send: () => undefined, machine: state });
    driver.campaign();
    const deadline = Date.now() + 5000;
    while (raft.status().role !== 'leader' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const written = await driver.propose(envelope({ kind: 'probe', nonce: '', value: 'w' }), { timeoutMs: 2000 });
    const index = await driver.readIndex(2000);
    expect(index).toBeGreaterThanOrEqual(written.index);
    expect(Math.max(...applied)).toBeGreaterThanOrEqual(index);
    driver.stop();
  });

  it('rejects when no leader is known, when nothing answers in time, and when the driver stops', async () => {
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'b', rng: new SeededRng(1) }, null, { voters: ['a', 'b'], learners: [] });
    const driver = new RaftDriver({ raft, storage, send: () => undefined, machine: { restore: () => undefined, apply: () => undefined } });
    await expect(driver.readIndex(1000)).rejects.toThrow(/no leader/);
    raft.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, ctx: '', transferee: '' });
    await expect(driver.readIndex(100)).rejects.toThrow(/within 100 ms/);
    const pending = driver.readIndex(5000);
    driver.stop();
    await expect(pending).rejects.toBeInstanceOf(ReadIndexError);
  });
});

describe('task logs', () => {
  it('reads the end of a local log, cut on a character boundary, and says when there is none', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs', 'j1'), { recursive: true });
    writeFileSync(join(dir, 'logs', 'j1', 'a[0].1.log'), `start\n${'é'.repeat(100)}end\n`);
    const whole = await readLocalLog(dir, { job: 'j1', task: 'a[0]', attempt: 1 });
    expect(whole).toMatchObject({ ok: true, truncated: false });
    const tail = await readLocalLog(dir, { job: 'j1', task: 'a[0]', attempt: 1 }, 11);
    expect(tail.ok && tail.truncated).toBe(true);
    if (tail.ok) expect(Buffer.from(tail.data).toString('utf8')).toBe('éééend\n');
    expect(await readLocalLog(dir, { job: 'j1', task: 'a[0]', attempt: 2 })).toMatchObject({ ok: false, missing: true });
    expect(await readLocalLog(dir, { job: '../x', task: 'a', attempt: 1 })).toMatchObject({ ok: false, missing: false });
  });

  const task = (t: Partial<TaskView>): TaskView => ({
    state: 'succeeded',
    attempt: 1,
    node: 'self',
    fence: 1,
    exitCode: 0,
    startedAt: 0,
    finishedAt: 1,
    durationMs: 1,
    retryAt: null,
    stdout: '',
    stderr: '',
    reason: null,
    output: null,
    attempts: [],
    ...t,
  });
  const ok = (text: string): LogAnswer => ({ ok: true, data: Buffer.from(text), size: text.length, truncated: false });

  function deps(tasks: Record<string, TaskView>, remote: Record<string, LogAnswer | 'down'>): TaskLogDeps & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      self: 'self',
      dataDir: tempDir(),
      task: (id, name) => (id === 'j1' && Object.hasOwn(tasks, name) ? tasks[name] : undefined),
      jobExists: (id) => id === 'j1',
      peers: () => ['self', ...Object.keys(remote)],
      fetchRemote: async (node) => {
        asked.push(node);
        const a = remote[node];
        if (a === undefined || a === 'down') throw new Error('connection refused');
        return a;
      },
    };
  }

  it('answers 404 for an unknown job, task, attempt, a task not started and a log that is gone', async () => {
    const d = deps(
      { a: task({ attempt: 2, node: 'n2' }), w: task({ state: 'waiting', attempt: 0, node: null }), s: task({ node: 'self' }) },
      { n2: { ok: false, missing: true, error: 'no log file' } },
    );
    expect(await taskLog(d, 'zz', 'a', null)).toMatchObject({ reason: 'not-found', error: expect.stringMatching(/no job zz/) });
    expect(await taskLog(d, 'j1', 'b', null)).toMatchObject({ reason: 'not-found', error: expect.stringMatching(/no task "b"/) });
    expect(await taskLog(d, 'j1', 'a', 3)).toMatchObject({
      reason: 'not-found',
      error: expect.stringMatching(/no attempt 3 \(it has had 2\)/),
    });
    expect(await taskLog(d, 'j1', 'w', null)).toMatchObject({ reason: 'not-found', error: expect.stringMatching(/not started/) });
    expect(await taskLog(d, 'j1', 's', null)).toMatchObject({
      reason: 'not-found',
      error: expect.stringMatching(/no log for attempt 1 .* on self/),
    });
    expect(await taskLog(d, 'j1', 'a', null)).toMatchObject({ reason: 'not-found', error: expect.stringMatching(/on n2/) });
  });

  it('fetches the latest attempt from its node, or answers 503 naming it', async () => {
    const up = deps({ a: task({ attempt: 1, node: 'n2' }) }, { n2: ok('hello') });
    const r = await taskLog(up, 'j1', 'a', null);
    expect(r).toMatchObject({ ok: true, node: 'n2', attempt: 1 });
    expect(up.asked).toEqual(['n2']);
    const down = deps({ a: task({ attempt: 1, node: 'n2' }) }, { n2: 'down' });
    expect(await taskLog(down, 'j1', 'a', null)).toMatchObject({
      reason: 'unavailable',
      error: expect.stringMatching(/node n2, which ran attempt 1 .* unreachable/),
      details: { node: 'n2' },
    });
  });

  it('looks for an earlier attempt on every node, naming the unreachable ones when none has it', async () => {
    const d = deps(
      { a: task({ attempt: 3, node: 'n2' }) },
      { n2: { ok: false, missing: true, error: 'none' }, n3: ok('attempt 1 output') },
    );
    expect(await taskLog(d, 'j1', 'a', 1)).toMatchObject({ ok: true, node: 'n3', attempt: 1 });
    const partial = deps({ a: task({ attempt: 3, node: 'n2' }) }, { n2: { ok: false, missing: true, error: 'none' }, n3: 'down' });
    expect(await taskLog(partial, 'j1', 'a', 1)).toMatchObject({ reason: 'unavailable', details: { unreachable: ['n3'] } });
    const nowhere = deps({ a: task({ attempt: 3, node: 'n2' }) }, { n2: { ok: false, missing: true, error: 'none' } });
    expect(await taskLog(nowhere, 'j1', 'a', 2)).toMatchObject({ reason: 'not-found', error: expect.stringMatching(/on any node/) });
  });

  it('validates /meshrun/logs/1 requests', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(decodeLogRequest(enc({ v: 1, job: 'abc-1', task: 'x[3]', attempt: 2 }))).toEqual({
      ok: true,
      value: { job: 'abc-1', task: 'x[3]', attempt: 2 },
    });
    for (const bad of [
      { v: 2, job: 'a', task: 't', attempt: 1 },
      { v: 1, job: '../etc', task: 't', attempt: 1 },
      { v: 1, job: 'a', task: 'a/b', attempt: 1 },
      { v: 1, job: 'a', task: 't', attempt: 0 },
      { v: 1, job: 'a', task: 't' },
    ]) {
      expect(decodeLogRequest(enc(bad)).ok).toBe(false);
    }
    expect(decodeLogRequest(new Uint8Array([0xff, 0x00])).ok).toBe(false);
  });
});
