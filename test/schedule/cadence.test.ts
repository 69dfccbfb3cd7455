// Cadences (docs/schedules.md §2): next ticks from croner, deterministic and DST-aware.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cadenceProblem, nextTick, type Cadence } from '../../src/schedule/cadence.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('nextTick', () => {
  it('every: the next multiple of the period since the epoch, strictly after', () => {
    const c: Cadence = { kind: 'every', everyMs: 15 * 60_000 };
    expect(iso(nextTick(c, 'UTC', Date.UTC(2026, 0, 1, 10, 7)))).toBe('2026-01-01T10:15:00.000Z');
    expect(iso(nextTick(c, 'UTC', Date.UTC(2026, 0, 1, 10, 15)))).toBe('2026-01-01T10:30:00.000Z');
  });

  it('cron with seconds, and 5 fields meaning second 0', () => {
    expect(iso(nextTick({ kind: 'cron', expr: '*/20 * * * * *' }, 'UTC', Date.UTC(2026, 0, 1, 12, 0, 20)))).toBe(
      '2026-01-01T12:00:40.000Z',
    );
    expect(iso(nextTick({ kind: 'cron', expr: '30 2 * * *' }, 'UTC', Date.UTC(2026, 0, 1, 12)))).toBe('2026-01-02T02:30:00.000Z');
  });

  it('reads the fields in the time zone', () => {
    // 02:30 in Berlin in winter is 01:30 UTC; in New York it is 07:30 UTC.
    expect(iso(nextTick({ kind: 'cron', expr: '30 2 * * *' }, 'Europe/Berlin', Date.UTC(2026, 0, 10)))).toBe('2026-01-10T01:30:00.000Z');
    expect(iso(nextTick({ kind: 'cron', expr: '30 2 * * *' }, 'America/New_York', Date.UTC(2026, 0, 10)))).toBe('2026-01-10T07:30:00.000Z');
  });

  it('DST gap: a tick in the skipped hour fires once, an hour later by the wall clock', () => {
    // Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
    const c: Cadence = { kind: 'cron', expr: '30 2 * * *' };
    const ticks = [Date.UTC(2026, 2, 27, 12)];
    for (let i = 0; i < 3; i++) ticks.push(nextTick(c, 'Europe/Berlin', ticks[i] as number) as number);
    expect(ticks.slice(1).map(iso)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('DST repeat: a tick in the repeated hour fires once', () => {
    // Berlin, 25 October 2026: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    const c: Cadence = { kind: 'cron', expr: '30 2 * * *' };
    const ticks = [Date.UTC(2026, 9, 23, 12)];
    for (let i = 0; i < 3; i++) ticks.push(nextTick(c, 'Europe/Berlin', ticks[i] as number) as number);
    expect(ticks.slice(1).map(iso)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('property: ticks are strictly increasing and the same when asked again', () => {
    const cadences: [Cadence, string][] = [
      [{ kind: 'cron', expr: '*/7 * * * * *' }, 'UTC'],
      [{ kind: 'cron', expr: '0 */3 * * *' }, 'Europe/Berlin'],
      [{ kind: 'cron', expr: '30 1,2,3 * * 0' }, 'America/New_York'],
      [{ kind: 'cron', expr: '0 0 L * *' }, 'Australia/Lord_Howe'],
      [{ kind: 'every', everyMs: 7000 }, 'UTC'],
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: cadences.length - 1 }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        (k, start) => {
          const [c, tz] = cadences[k] as [Cadence, string];
          let t = start;
          for (let i = 0; i < 5; i++) {
            const next = nextTick(c, tz, t);
            expect(next).not.toBeNull();
            expect(next as number).toBeGreaterThan(t);
            expect(nextTick(c, tz, t)).toBe(next);
            t = next as number;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('cadenceProblem', () => {
  it('names what is wrong', () => {
    expect(cadenceProblem({ kind: 'cron', expr: '61 * * * *' }, 'UTC')).toMatch(/Invalid value for minute: 61/);
    expect(cadenceProblem({ kind: 'cron', expr: '* * *' }, 'UTC')).toMatch(/must have 5 fields/);
    expect(cadenceProblem({ kind: 'cron', expr: '? * * * *' }, 'UTC')).toMatch(/'\?' is not supported/);
    expect(cadenceProblem({ kind: 'cron', expr: '* * * * *' }, 'Mars/Olympus')).toMatch(/unknown time zone 'Mars\/Olympus'/);
    expect(cadenceProblem({ kind: 'every', everyMs: 500 }, 'UTC')).toMatch(/every must be/);
    expect(cadenceProblem({ kind: 'cron', expr: '0 12 * * MON-FRI' }, 'Asia/Tokyo')).toBeNull();
  });
});
