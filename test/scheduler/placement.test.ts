// Placement labels, pools and job concurrency in the state machine (docs/dag-file.md §14): claims
// are refused at apply, whoever proposed them, so no two nodes are ever over a limit at once; the
// job view says why a ready task waits; everything survives a snapshot (format 6) and a replay.
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { checkJobSpec } from '../../src/scheduler/dag-check.js';
import { decodeJobSpec, encodeJobSpec } from '../../src/scheduler/job-spec-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { parseLabels } from '../../src/scheduler/placement.js';
import type { Command } from '../../src/scheduler/types.js';
import { Driver, job, ofType, stateOf, task } from './machine-helpers.js';

const GPU = { gpu: 'a100' };

function ignored(effects: ReturnType<Driver['do']>): string[] {
  return ofType(effects, 'ignored').map((e) => e.reason);
}

describe('labels', () => {
  it('a task with on: is claimed only by a node with all those labels', () => {
    const d = new Driver();
    d.hb('plain');
    d.hb('gpu', { labels: { gpu: 'a100', zone: 'eu' } });
    d.submit('j', job([task('train', { on: GPU }), task('any')]));
    expect(ignored(d.claim('plain', [['j', 0]]))).toEqual(['j/0: node lacks labels gpu=a100']);
    expect(stateOf(d.m, 'j', 'train')).toBe('ready');
    expect(ignored(d.claim('gpu', [['j', 0]]))).toEqual([]);
    expect(d.m.job('j')?.tasks['train']?.node).toBe('gpu');
    expect(ignored(d.claim('plain', [['j', 1]]))).toEqual([]);
  });

  it('a label of another value does not match, and a later heartbeat replaces the labels', () => {
    const d = new Driver();
    d.hb('n', { labels: { gpu: 'v100' } });
    d.submit('j', job([task('train', { on: GPU })]));
    expect(ignored(d.claim('n', [['j', 0]]))).toEqual(['j/0: node lacks labels gpu=a100']);
    expect(d.m.job('j')?.tasks['train']?.reason).toBe('no node has labels gpu=a100');
    d.hb('n', { labels: GPU });
    expect(d.m.node('n')?.labels).toEqual(GPU);
    expect(d.m.job('j')?.tasks['train']?.reason).toBe(null);
    expect(ignored(d.claim('n', [['j', 0]]))).toEqual([]);
  });

  it('claimNext does not take a dependent the node lacks the labels for', () => {
    const d = new Driver();
    d.hb('plain');
    d.submit('j', job([task('a'), task('b', { deps: ['a'], on: GPU })]));
    d.claim('plain', [['j', 0]]);
    d.done('plain', 'j', 0, 'succeeded', { claimNext: true });
    expect(stateOf(d.m, 'j', 'b')).toBe('ready');
    expect(d.m.job('j')?.tasks['b']?.reason).toBe('no node has labels gpu=a100');
  });
});

describe('pools', () => {
  it('a task of a pool that does not exist waits with that reason; creating it lets it run', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('load', { pool: 'db' })]));
    expect(ignored(d.claim('n', [['j', 0]]))).toEqual(['j/0: pool db does not exist']);
    expect(d.m.job('j')?.tasks['load']?.reason).toMatch(/^pool db does not exist/);
    expect(ofType(d.do({ type: 'pool-set', name: 'db', size: 1 }), 'pool')).toEqual([{ type: 'pool', name: 'db', size: 1 }]);
    expect(ignored(d.claim('n', [['j', 0]]))).toEqual([]);
    expect(d.m.pool('db')).toEqual({ name: 'db', size: 1, used: 1 });
  });

  it('never lets two nodes hold more slots of a pool than its size; a finish or a lease loss frees one', () => {
    const d = new Driver();
    d.do({ type: 'pool-set', name: 'db', size: 2 });
    for (const n of ['a', 'b', 'c']) d.hb(n);
    d.submit('j', job([task('load', { pool: 'db', shards: 5 })]));
    d.claim('a', [
      ['j', 0],
      ['j', 1],
    ]);
    expect(ignored(d.claim('b', [['j', 2]]))).toEqual(['j/2: pool db is full (2 of 2 slots held)']);
    expect(d.m.pool('db')?.used).toBe(2);
    expect(d.m.job('j')?.tasks['load[2]']?.reason).toBe('waiting for a slot of pool db (2 of 2 held)');
    d.done('a', 'j', 0);
    expect(d.m.pool('db')?.used).toBe(1);
    expect(
      ignored(
        d.claim('b', [
          ['j', 2],
          ['j', 3],
        ]),
      ),
    ).toEqual(['j/3: pool db is full (2 of 2 slots held)']);
    // a's lease runs out (only b and c keep heartbeating): its task goes back, its slot with it.
    for (let i = 0; i < 8; i++) {
      d.hb('b', {}, 1000);
      d.hb('c');
    }
    expect(stateOf(d.m, 'j', 'load[1]')).toBe('ready');
    expect(d.m.pool('db')?.used).toBe(1);
    expect(ignored(d.claim('c', [['j', 1]]))).toEqual([]);
    expect(d.m.pool('db')?.used).toBe(2);
  });

  it('size 0 pauses a pool: running tasks go on, no new one starts', () => {
    const d = new Driver();
    d.do({ type: 'pool-set', name: 'db', size: 2 });
    d.hb('n');
    d.submit('j', job([task('load', { pool: 'db', shards: 3 })]));
    d.claim('n', [['j', 0]]);
    d.do({ type: 'pool-set', name: 'db', size: 0 });
    expect(stateOf(d.m, 'j', 'load[0]')).toBe('running');
    expect(ignored(d.claim('n', [['j', 1]]))).toEqual(['j/1: pool db is full (1 of 0 slots held)']);
    expect(d.m.job('j')?.tasks['load[1]']?.reason).toBe('pool db is paused (size 0)');
    d.done('n', 'j', 0);
    expect(d.m.pools()).toEqual([{ name: 'db', size: 0, used: 0 }]);
  });

  it('refuses a bad name or size in the machine as in the codec', () => {
    const d = new Driver();
    expect(ignored(d.do({ type: 'pool-set', name: 'db', size: 10_001 }))[0]).toMatch(/pool size must be an integer from 0 to 10,000/);
    expect(ignored(d.do({ type: 'pool-set', name: '-x', size: 1 }))[0]).toMatch(/pool name '-x' must be/);
    expect(() => encodeCommand({ type: 'pool-set', name: 'db', size: -1 })).toThrow(/pool size/);
    expect(d.m.pools()).toEqual([]);
  });
});

describe('job concurrency', () => {
  it('caps the running tasks of one job across nodes, claimNext included', () => {
    const d = new Driver();
    d.hb('a');
    d.hb('b');
    d.submit('j', job([task('t', { shards: 4 }), task('after', { deps: ['t'] })], { concurrency: 2 }));
    d.claim('a', [['j', 0]]);
    expect(
      ignored(
        d.claim('b', [
          ['j', 1],
          ['j', 2],
        ]),
      ),
    ).toEqual(['j/2: job concurrency 2 reached']);
    expect(d.m.jobRunning('j')).toBe(2);
    expect(d.m.job('j')?.tasks['t[3]']?.reason).toBe('waiting: job concurrency 2 reached (2 running)');
    d.done('a', 'j', 0, 'succeeded', { claimNext: true });
    expect(
      ignored(
        d.claim('a', [
          ['j', 2],
          ['j', 3],
        ]),
      ),
    ).toEqual(['j/3: job concurrency 2 reached']);
  });
});

describe('snapshots and codecs', () => {
  it('labels, pools and their use survive a snapshot: the restored machine is the same, byte for byte', () => {
    const d = new Driver();
    d.do({ type: 'pool-set', name: 'db', size: 2 });
    d.do({ type: 'pool-set', name: 'api', size: 5 });
    d.hb('n', { labels: { zone: 'eu', gpu: 'a100' } });
    d.submit('j', job([task('t', { shards: 3, pool: 'db', on: GPU })], { concurrency: 3 }));
    d.claim('n', [
      ['j', 0],
      ['j', 1],
    ]);
    const bytes = d.m.encode();
    expect(bytes[0]).toBe(7);
    const r = Scheduler.restore(bytes);
    expect(r.hash()).toBe(d.m.hash());
    expect(r.pools()).toEqual([
      { name: 'api', size: 5, used: 0 },
      { name: 'db', size: 2, used: 2 },
    ]);
    expect(r.node('n')?.labels).toEqual({ gpu: 'a100', zone: 'eu' });
    // The restored one refuses the third claim as the original does.
    const cmd: Command = { type: 'claim', node: 'n', boot: 1, tasks: [{ job: 'j', task: 2 }] };
    expect(ignored(r.applyCommand(cmd, 100, d.time))).toEqual(['j/2: pool db is full (2 of 2 slots held)']);
  });

  it('reads a format 5 snapshot as no labels and no pools, and a format 6 one as nothing held ahead', () => {
    const d = new Driver();
    d.hb('n');
    const v7 = d.m.encode();
    // Format 7 added each node's ahead (0) after its labels count (0), before the job count (0), and
    // the staged submits (none: 0) after the pools count (0) at the end.
    const nodeEnd = v7.length - 1 - 1 - 1 - 1 - 1 - 1; // staged, pools, schedules, timers, ranges, jobs
    expect([...v7.subarray(nodeEnd - 2)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const v6 = Uint8Array.from([6, ...v7.subarray(1, nodeEnd - 1), ...v7.subarray(nodeEnd, v7.length - 1)]);
    expect(Scheduler.restore(v6).hash()).toBe(d.m.hash());
    const v5 = Uint8Array.from([5, ...v7.subarray(1, nodeEnd - 2), ...v7.subarray(nodeEnd, v7.length - 2)]);
    expect(Scheduler.restore(v5).hash()).toBe(d.m.hash());
  });

  it('round-trips on, pool and concurrency through the job spec codec, and refuses what the checks refuse', () => {
    const spec = job([task('t', { on: { zone: 'eu', gpu: 'a100' }, pool: 'db' }), task('u')], { concurrency: 4 });
    const checked = checkJobSpec(spec);
    expect(checked.ok).toBe(true);
    const again = decodeJobSpec(encodeJobSpec(checked.ok ? checked.spec : spec));
    expect(again.ok && again.value).toEqual({ ...spec, tasks: [{ ...spec.tasks[0], on: { gpu: 'a100', zone: 'eu' } }, spec.tasks[1]] });
    const bad = checkJobSpec(job([task('t', { on: { 'bad key': 'x' }, pool: '' })], { concurrency: 0 }));
    expect(bad.ok ? '' : bad.error).toMatch(/label key 'bad key' must be.*pool name '' must be.*concurrency: must be an integer from 1/);
    expect(checkJobSpec(job([task('t', { on: {} })])).ok).toBe(false);
  });

  it('carries a heartbeat with labels, and refuses unordered or bad ones from the wire', () => {
    const hb: Command = { type: 'heartbeat', node: 'n', boot: 1, slots: 2, handlers: [], leaseMs: 5000, seq: 1, labels: { gpu: 'a100' } };
    expect(decodeCommand(encodeCommand(hb))).toEqual({ ok: true, value: hb });
    expect(() => encodeCommand({ ...hb, labels: { gpu: 'a 100' } })).toThrow(/value 'a 100' must be/);
  });
});

describe('--label', () => {
  it('parses KEY=VALUE pairs into sorted labels and names every problem', () => {
    expect(parseLabels(['zone=eu', 'gpu=a100'])).toEqual({ ok: true, labels: { gpu: 'a100', zone: 'eu' } });
    const bad = parseLabels(['gpu', 'gpu=a100', 'gpu=v100', 'x=', `${'k'.repeat(64)}=v`]);
    expect(bad.ok ? [] : bad.problems).toEqual([
      '--label gpu: expected KEY=VALUE, like gpu=a100',
      '--label gpu is given twice',
      "label x: value '' must be 1 to 63 letters, digits, '_', '.' or '-'",
      `label key '${'k'.repeat(64)}' must be 1 to 63 letters, digits, '_', '.', '/' or '-', starting with a letter or digit`,
    ]);
  });
});
