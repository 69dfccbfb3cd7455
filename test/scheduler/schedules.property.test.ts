// Property tests of the decision (docs/schedules.md §3): whatever fire commands arrive, in whatever
// order, duplicated or early, each tick is decided once and starts at most one job; the decided
// ticks have no gap; and a replica restored from a snapshot at any point decides the rest alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextTick } from '../../src/schedule/cadence.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { CATCHUP_POLICIES, OVERLAP_POLICIES, type ScheduleSpec } from '../../src/scheduler/schedule-types.js';
import type { Command, Effect } from '../../src/scheduler/types.js';
import { every } from './machine-helpers.js';

const T0 = Date.UTC(2026, 2, 28, 23, 0);

const specArb = fc.record({
  overlap: fc.constantFrom(...OVERLAP_POLICIES),
  catchup: fc.constantFrom(...CATCHUP_POLICIES),
  cron: fc.boolean(),
  everyS: fc.integer({ min: 1, max: 5 }),
});

/** Fires: a time step (the entry's time moves on by it) and the tick proposed (due, early, or old), twice in one command. */
const stepArb = fc.record({ dt: fc.integer({ min: 0, max: 4000 }), offset: fc.integer({ min: -3, max: 1 }) });

function spec(s: { overlap: ScheduleSpec['overlap']; catchup: ScheduleSpec['catchup']; cron: boolean; everyS: number }): ScheduleSpec {
  const base = every('s', s.everyS * 1000, { overlap: s.overlap, catchup: s.catchup });
  return s.cron ? { ...base, cadence: { kind: 'cron', expr: `*/${s.everyS} * * * * *` }, timezone: 'Europe/Berlin' } : base;
}

describe('schedule decisions (property)', () => {
  it('each tick is decided once, without a gap, with at most one job; a restored replica agrees', () => {
    fc.assert(
      fc.property(specArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.nat(40), (s, steps, cut) => {
        const sp = spec(s);
        const log: { cmd: Command; index: number; time: number }[] = [
          { cmd: { type: 'schedule-put', request: 'r', spec: sp, at: 0 }, index: 1, time: T0 },
        ];
        let time = T0;
        let proposed = T0;
        for (const st of steps) {
          time += st.dt;
          // A proposer's idea of the due tick: the next after what it saw, shifted a few ticks either way.
          let tick = proposed;
          for (let k = 0; k < 3 + st.offset; k++) tick = nextTick(sp.cadence, sp.timezone, tick) as number;
          proposed = Math.max(proposed, tick - 5000);
          log.push({
            cmd: {
              type: 'fire',
              items: [
                { schedule: 's', tick },
                { schedule: 's', tick },
              ],
            },
            index: log.length + 1,
            time,
          });
        }
        const m = new Scheduler();
        const seen = new Map<number, string>();
        const jobs = new Set<string>();
        let decidedUntil = T0;
        let copy: Scheduler | null = null;
        for (const [i, e] of log.entries()) {
          if (i === cut % log.length) copy = Scheduler.restore(m.encode());
          const effects: Effect[] = m.applyCommand(e.cmd, e.index, e.time);
          if (copy !== null && i >= cut % log.length) expect(copy.applyCommand(e.cmd, e.index, e.time)).toEqual(effects);
          for (const ef of effects) {
            if (ef.type !== 'schedule-tick') continue;
            // No gap: each decision starts at the tick after the last one decided.
            expect(ef.tick).toBe(nextTick(sp.cadence, sp.timezone, decidedUntil));
            expect(seen.has(ef.tick)).toBe(false);
            seen.set(ef.tick, ef.outcome);
            expect(ef.tick).toBeLessThanOrEqual(ef.at);
            decidedUntil = ef.lastTick;
            if (ef.job !== null) {
              expect(jobs.has(ef.job)).toBe(false);
              jobs.add(ef.job);
            }
          }
        }
        if (copy !== null) expect(copy.hash()).toBe(m.hash());
        expect(m.jobs().filter((j) => j.schedule === 's').length).toBe(jobs.size);
      }),
      { numRuns: 150 },
    );
  });
});
