// The registry the driver's proposals wait in (docs/architecture.md §15): every wait ends exactly
// once, answered, lost, unknown, timed out or stopped, and nothing stays behind (no wait, no timer).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Committed, Reply } from '../../src/node/proposal.js';
import { WaitRegistry } from '../../src/node/wait-registry.js';
import { ManualTimers } from './manual-timers.js';

/** Timers that also count how many are armed and not cancelled. */
class CountingTimers extends ManualTimers {
  armed = 0;
  override after(ms: number, fn: () => void): { cancel(): void } {
    this.armed++;
    let live = true;
    const t = super.after(ms, () => {
      live = false;
      this.armed--;
      fn();
    });
    return {
      cancel: () => {
        if (live) this.armed--;
        live = false;
        t.cancel();
      },
    };
  }
}

function setup(limit = 100): {
  timers: CountingTimers;
  reg: WaitRegistry<string>;
  ends: Map<string, string[]>;
  wait: (key: string, timeoutMs?: number) => Reply<Committed<string>>;
} {
  const timers = new CountingTimers();
  const reg = new WaitRegistry<string>(timers, limit);
  const ends = new Map<string, string[]>();
  const note = (key: string, what: string): void => void ends.set(key, [...(ends.get(key) ?? []), what]);
  const wait = (key: string): Reply<Committed<string>> => ({
    resolve: (c) => note(key, `answered ${c.index} ${c.result}`),
    reject: (e) => note(key, (e as Error & { reason: string }).reason),
  });
  return { timers, reg, ends, wait };
}

describe('WaitRegistry', () => {
  it('answers a wait when its entry is applied, once', () => {
    const { timers, reg, ends, wait } = setup();
    expect(reg.register('r.1', 1000, wait('r.1'), { term: 1, index: 5 })).toBe(true);
    reg.trigger('r.1', { index: 5, result: 'ok' });
    reg.trigger('r.1', { index: 5, result: 'again' });
    timers.advanceTo(2000);
    expect(ends.get('r.1')).toEqual(['answered 5 ok']);
    expect(reg.size).toBe(0);
    expect(timers.armed).toBe(0);
  });

  it('times a wait out on its timers', () => {
    const { timers, reg, ends, wait } = setup();
    reg.register('r.1', 1000, wait('r.1'));
    timers.advanceTo(999);
    expect(ends.size).toBe(0);
    timers.advanceTo(1000);
    expect(ends.get('r.1')).toEqual(['timeout']);
    expect(reg.size).toBe(0);
  });

  it('ends as lost every wait placed in a term lower than an applied entry, and none placed in that term or not placed yet', () => {
    const { reg, ends, wait } = setup();
    reg.register('led', 1000, wait('led'), { term: 2, index: 7 });
    reg.register('forwarded', 1000, wait('forwarded'));
    reg.place(2);
    reg.register('unplaced', 1000, wait('unplaced'));
    reg.register('current', 1000, wait('current'), { term: 3, index: 9 });
    reg.applied(2);
    expect(ends.size).toBe(0);
    reg.applied(3);
    expect(ends).toEqual(
      new Map([
        ['led', ['lost']],
        ['forwarded', ['lost']],
      ]),
    );
    expect(reg.size).toBe(2);
  });

  it('ends as lost the waits a former leader appended past the end of its log', () => {
    const { reg, ends, wait } = setup();
    reg.register('kept', 1000, wait('kept'), { term: 2, index: 7 });
    reg.register('cut', 1000, wait('cut'), { term: 2, index: 8 });
    reg.register('forwarded', 1000, wait('forwarded'), { term: 2, index: null });
    reg.truncated(7);
    expect(ends).toEqual(new Map([['cut', ['lost']]]));
  });

  it('ends as unknown the waits a snapshot may have swallowed', () => {
    const { reg, ends, wait } = setup();
    reg.register('older term', 1000, wait('older term'), { term: 1, index: null });
    reg.register('inside', 1000, wait('inside'), { term: 2, index: 10 });
    reg.register('after', 1000, wait('after'), { term: 2, index: 11 });
    reg.register('same term, forwarded', 1000, wait('same term, forwarded'), { term: 2, index: null });
    reg.restored(10, 2);
    expect(ends).toEqual(
      new Map([
        ['older term', ['unknown']],
        ['inside', ['unknown']],
      ]),
    );
    expect(reg.size).toBe(2);
  });

  it('holds at most its limit, refuses a taken key, and ends everything on stop', () => {
    const { timers, reg, ends, wait } = setup(2);
    expect(reg.register('a', 1000, wait('a'))).toBe(true);
    expect(reg.register('a', 1000, wait('a'))).toBe(false);
    expect(reg.register('b', 1000, wait('b'))).toBe(true);
    expect(reg.register('c', 1000, wait('c'))).toBe(false);
    reg.stop();
    expect(ends).toEqual(
      new Map([
        ['a', ['stopped']],
        ['b', ['stopped']],
      ]),
    );
    expect(reg.size).toBe(0);
    expect(timers.armed).toBe(0);
  });

  it('ends every wait exactly once and leaks nothing, whatever happens in whatever order', () => {
    type Op =
      | { op: 'register'; key: number; timeoutMs: number; term: number | null; index: number | null }
      | { op: 'place' | 'applied'; term: number }
      | { op: 'trigger'; key: number }
      | { op: 'truncated'; index: number }
      | { op: 'restored'; index: number; term: number }
      | { op: 'advance'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        op: fc.constant('register' as const),
        key: fc.nat(20),
        timeoutMs: fc.integer({ min: 1, max: 500 }),
        term: fc.option(fc.integer({ min: 1, max: 5 })),
        index: fc.option(fc.integer({ min: 1, max: 30 })),
      }),
      fc.record({ op: fc.constantFrom('place' as const, 'applied' as const), term: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ op: fc.constant('trigger' as const), key: fc.nat(20) }),
      fc.record({ op: fc.constant('truncated' as const), index: fc.nat(30) }),
      fc.record({ op: fc.constant('restored' as const), index: fc.nat(30), term: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { timers, reg, ends, wait } = setup(8);
        const registered = new Set<string>();
        let registrations = 0;
        for (const o of ops) {
          if (o.op === 'register') {
            const key = `r.${o.key}`;
            const placement = o.term === null ? null : { term: o.term, index: o.index };
            if (reg.register(key, o.timeoutMs, wait(key), placement)) {
              registered.add(key);
              registrations++;
            }
          } else if (o.op === 'place') reg.place(o.term);
          else if (o.op === 'applied') reg.applied(o.term);
          else if (o.op === 'trigger') reg.trigger(`r.${o.key}`, { index: 1, result: 'x' });
          else if (o.op === 'truncated') reg.truncated(o.index);
          else if (o.op === 'restored') reg.restored(o.index, o.term);
          else if ('ms' in o) timers.advanceTo(timers.now + o.ms);
          expect(reg.size).toBeLessThanOrEqual(8);
          expect(timers.armed).toBe(reg.size);
        }
        timers.advanceTo(timers.now + 1000);
        expect(reg.size).toBe(0);
        expect(timers.armed).toBe(0);
        // A key may be registered again once its wait ended; each registration ends once.
        for (const key of ends.keys()) expect(registered.has(key), key).toBe(true);
        const total = [...ends.values()].reduce((n, e) => n + e.length, 0);
        expect(total).toBe(registrations);
      }),
    );
  });
});
