// Claiming ahead in the state machine (docs/architecture.md §8): a node's heartbeat may let it hold
// `ahead` claims beyond its slots. Claims and claimNext fill slots + ahead and no more, a refused
// claim is named to its node, and what a node may hold survives a snapshot.
import { describe, expect, it } from 'vitest';
import * as pb from '../../src/proto/scheduler.js';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import type { Command, Effect } from '../../src/scheduler/types.js';
import { Driver, job, task } from './machine-helpers.js';

/** 'running' when the task is held (it has a launch), else 'not running'. */
const held = (d: Driver, t: number): string => (d.m.launch({ job: 'j', task: t }) === undefined ? 'not running' : 'running');

const refused = (effects: readonly Effect[]): string[] =>
  effects.flatMap((e) => (e.type === 'claim-refused' ? [`${e.node} ${e.job}/${e.task}`] : []));

describe('claiming ahead', () => {
  it('takes slots + ahead claims, refuses the next one and names it to its node', () => {
    const d = new Driver();
    d.hb('n', { slots: 2, ahead: 1 });
    d.submit('j', job([task('t', { shards: 4 })]));
    const effects = d.claim('n', [
      ['j', 0],
      ['j', 1],
      ['j', 2],
      ['j', 3],
    ]);
    expect([0, 1, 2, 3].map((t) => held(d, t))).toEqual(['running', 'running', 'running', 'not running']);
    expect(refused(effects)).toEqual(['n j/3']);
    expect(d.m.node('n')).toMatchObject({ slots: 2, ahead: 1, used: 3 });
  });

  it('without ahead a node takes its slots only, as before', () => {
    const d = new Driver();
    d.hb('n', { slots: 2 });
    d.submit('j', job([task('t', { shards: 3 })]));
    expect(
      refused(
        d.claim('n', [
          ['j', 0],
          ['j', 1],
          ['j', 2],
        ]),
      ),
    ).toEqual(['n j/2']);
  });

  it('claimNext fills slots + ahead with the dependents a finish readies', () => {
    const d = new Driver();
    d.hb('n', { slots: 1, ahead: 1 });
    d.submit('j', job([task('a'), task('b', { deps: ['a'], shards: 3 })]));
    d.claim('n', [['j', 0]]);
    d.done('n', 'j', 0, 'succeeded', { claimNext: true });
    expect([1, 2, 3].map((t) => held(d, t))).toEqual(['running', 'running', 'not running']);
  });

  it('a heartbeat that lowers ahead refuses new claims until the node is below it again', () => {
    const d = new Driver();
    d.hb('n', { slots: 1, ahead: 1 });
    d.submit('j', job([task('t', { shards: 3 })]));
    d.claim('n', [
      ['j', 0],
      ['j', 1],
    ]);
    d.hb('n', { slots: 1 });
    expect(refused(d.claim('n', [['j', 2]]))).toEqual(['n j/2']);
    d.done('n', 'j', 0);
    expect(refused(d.claim('n', [['j', 2]]))).toEqual(['n j/2']);
    d.done('n', 'j', 1);
    expect(refused(d.claim('n', [['j', 2]]))).toEqual([]);
  });

  it('survives a snapshot: the restored machine refuses what the original refuses', () => {
    const d = new Driver();
    d.hb('n', { slots: 1, ahead: 1 });
    d.submit('j', job([task('t', { shards: 3 })]));
    d.claim('n', [['j', 0]]);
    const r = Scheduler.restore(d.m.encode());
    expect(r.hash()).toBe(d.m.hash());
    expect(r.node('n')?.ahead).toBe(1);
    const cmd: Command = {
      type: 'claim',
      node: 'n',
      boot: 1,
      tasks: [
        { job: 'j', task: 1 },
        { job: 'j', task: 2 },
      ],
    };
    expect(refused(r.applyCommand(cmd, d.index + 1, d.time))).toEqual(['n j/2']);
    expect(refused(d.m.applyCommand(cmd, d.index + 1, d.time))).toEqual(['n j/2']);
    expect(r.hash()).toBe(d.m.hash());
  });

  it('carries ahead in a heartbeat, and refuses more ahead than slots from the wire', () => {
    const hb: Command = { type: 'heartbeat', node: 'n', boot: 1, slots: 2, handlers: [], leaseMs: 5000, seq: 1, ahead: 2 };
    expect(decodeCommand(encodeCommand(hb))).toEqual({ ok: true, value: hb });
    const none: Command = { ...hb, ahead: 0 };
    const plain = { type: 'heartbeat', node: 'n', boot: 1, slots: 2, handlers: [], leaseMs: 5000, seq: 1 };
    expect(decodeCommand(encodeCommand(none))).toEqual({ ok: true, value: plain });
    expect(() => encodeCommand({ ...hb, ahead: 3 })).toThrow(/ahead 3 is not an integer in \[0, 2\]/);
    const forged = pb.Command.encode({
      heartbeat: { node: 'n', boot: 1, slots: 2, handlers: [], leaseMs: 5000, seq: 1, labels: [], ahead: 3 },
    });
    const decoded = decodeCommand(forged);
    expect(decoded.ok ? 'accepted' : decoded.error).toMatch(/ahead 3 is above 2/);
  });
});
