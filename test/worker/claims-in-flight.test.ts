import { describe, expect, it } from 'vitest';
import { ClaimsInFlight } from '../../src/worker/claims-in-flight.js';

describe('ClaimsInFlight', () => {
  it('keeps one claim per (job, task), counts them, and forgets emptied jobs', () => {
    const c = new ClaimsInFlight<string>();
    c.set({ job: 'a', task: 1 }, 'a1');
    c.set({ job: 'a', task: 1 }, 'a1 again');
    c.set({ job: 'b', task: 1 }, 'b1');
    expect(c.size).toBe(2);
    expect(c.get({ job: 'a', task: 1 })).toBe('a1 again');
    expect(c.has({ job: 'a', task: 2 })).toBe(false);
    expect(c.has({ job: 'c', task: 1 })).toBe(false);
    expect(c.delete({ job: 'a', task: 1 })).toBe(true);
    expect(c.delete({ job: 'a', task: 1 })).toBe(false);
    expect(c.size).toBe(1);
    expect([...c.values()]).toEqual(['b1']);
    c.clear();
    expect(c.size).toBe(0);
    expect([...c.values()]).toEqual([]);
  });

  it('deletes by value and by a range of one job, keeping the count right', () => {
    const c = new ClaimsInFlight<number>();
    for (let t = 0; t < 10; t++) c.set({ job: 'a', task: t }, t % 2);
    for (let t = 0; t < 10; t++) c.set({ job: 'b', task: t }, 1);
    c.deleteRange('a', 3, 7);
    expect(c.size).toBe(16);
    expect([3, 4, 5, 6].some((t) => c.has({ job: 'a', task: t }))).toBe(false);
    expect(c.has({ job: 'a', task: 2 }) && c.has({ job: 'a', task: 7 }) && c.has({ job: 'b', task: 5 })).toBe(true);
    c.deleteWhere((v) => v === 1);
    // Left: a's even tasks outside [3, 7): 0, 2, 8.
    expect(c.size).toBe(3);
    expect([0, 2, 8].every((t) => c.has({ job: 'a', task: t }))).toBe(true);
    c.deleteRange('a', 0, 100);
    c.deleteRange('nope', 0, 1);
    expect(c.size).toBe(0);
  });
});
