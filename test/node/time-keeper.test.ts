import { describe, expect, it } from 'vitest';
import { TimeKeeper } from '../../src/node/time-keeper.js';
import { decodeCommand } from '../../src/scheduler/command-codec.js';
import { liveView } from '../../src/scheduler/live-view.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { ManualTimers } from './manual-timers.js';

describe('TimeKeeper', () => {
  it('proposes a tick on its timers when it leads and something is due, at most once a period', () => {
    const timers = new ManualTimers();
    let leader = false;
    let due: number | null = null;
    const view = { ...liveView(() => new Scheduler()), nextDeadline: () => due };
    const proposed: number[] = [];
    const keeper = new TimeKeeper(
      {
        isLeader: () => leader,
        view,
        now: () => 10_000 + timers.now,
        propose: (data) => {
          expect(decodeCommand(data)).toMatchObject({ ok: true, value: { type: 'tick' } });
          proposed.push(timers.now);
          return { ok: true, index: proposed.length, term: 1 };
        },
        timers,
      },
      { periodMs: 100 },
    );
    keeper.start();
    due = 10_000;
    timers.advanceTo(350);
    expect(proposed).toEqual([]);
    leader = true;
    timers.advanceTo(650);
    // Looks every 100 ms: due all along, so a tick each time.
    expect(proposed).toEqual([400, 500, 600]);
    due = null;
    timers.advanceTo(900);
    expect(keeper.ticks).toBe(3);
    keeper.stop();
    due = 0;
    timers.advanceTo(2000);
    expect(keeper.ticks).toBe(3);
  });
});
