// The schedule keeper (docs/schedules.md §6): proposes due ticks at their time, again when a
// proposal is lost or refused, and never a tick the log has decided.
import { describe, expect, it } from 'vitest';
import { ScheduleKeeper } from '../../src/node/schedule-keeper.js';
import { decodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import type { FireItem } from '../../src/scheduler/schedule-types.js';
import { every } from '../scheduler/machine-helpers.js';
import { ManualTimers } from './manual-timers.js';

const T0 = Date.UTC(2026, 0, 1);

function setup(opts: { lose?: (n: number) => boolean; refuse?: (n: number) => boolean; commitMs?: number; follower?: boolean } = {}) {
  const timers = new ManualTimers();
  const m = new Scheduler();
  let index = 0;
  const apply = (cmd: Parameters<Scheduler['applyCommand']>[0]) => m.applyCommand(cmd, ++index, T0 + timers.now);
  apply({ type: 'schedule-put', request: 'r', spec: every('s', 1000), at: 0 });
  const proposals: { at: number; items: readonly FireItem[] }[] = [];
  const fired: number[] = [];
  const keeper = new ScheduleKeeper(
    {
      view: m,
      clock: { after: (ms, fn) => timers.after(ms, fn), now: () => T0 + timers.now },
      isLeader: () => opts.follower !== true,
      propose: (data) => {
        const d = decodeCommand(data);
        if (!d.ok || d.value.type !== 'fire') throw new Error('expected a fire command');
        const n = proposals.length;
        proposals.push({ at: timers.now, items: d.value.items });
        if (opts.refuse?.(n)) return { ok: false, reason: 'no-leader' };
        const cmd = d.value;
        if (!opts.lose?.(n)) {
          timers.after(opts.commitMs ?? 5, () => {
            for (const e of apply(cmd)) if (e.type === 'schedule-tick' && e.outcome === 'fired') fired.push(e.tick - T0);
          });
        }
        return { ok: true, index: n, term: 1 };
      },
    },
    { periodMs: 100, retryMs: 100, followerDelayMs: 50 },
  );
  return { timers, keeper, proposals, fired, apply };
}

describe('ScheduleKeeper', () => {
  it('proposes each tick at its time, once while it is being decided', () => {
    const { timers, keeper, proposals, fired } = setup();
    keeper.start();
    timers.advanceTo(5_500);
    expect(fired).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(proposals.map((p) => p.at)).toEqual([1000, 2000, 3000, 4000, 5000]);
    keeper.stop();
    timers.advanceTo(10_000);
    expect(proposals).toHaveLength(5);
  });

  it('proposes again a tick whose proposal was lost or refused', () => {
    const { timers, keeper, proposals, fired } = setup({ lose: (n) => n === 0, refuse: (n) => n === 1 });
    keeper.start();
    timers.advanceTo(2_500);
    // Lost at 1000, refused at 1100, committed from 1200.
    expect(proposals.slice(0, 3).map((p) => p.at)).toEqual([1000, 1100, 1200]);
    expect(fired).toEqual([1000, 2000]);
  });
});

describe('ScheduleKeeper on a follower', () => {
  it('leaves a tick to the leader for a moment, and proposes it itself when the leader does not', () => {
    const { timers, keeper, proposals, apply } = setup({ follower: true });
    keeper.start();
    // The leader's fire for 1000 is applied here at 1010: the follower never proposes it.
    timers.after(1010, () => apply({ type: 'fire', items: [{ schedule: 's', tick: T0 + 1000 }] }));
    timers.advanceTo(1_900);
    expect(proposals).toEqual([]);
    // Nobody decides 2000: the follower proposes it 50 ms late.
    timers.advanceTo(2_100);
    expect(proposals.map((p) => p.at)).toEqual([2050]);
  });
});
