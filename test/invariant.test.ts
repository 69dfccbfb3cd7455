import { describe, expect, it } from 'vitest';
import { at, known } from '../src/invariant.js';

describe('invariant reads', () => {
  it('at returns the item at an index inside the array, including falsy items', () => {
    expect(at([5, 0, 7], 1, 'a slot')).toBe(0);
    expect(at(new Uint32Array([9, 8]), 1, 'a column')).toBe(8);
  });

  it('at throws naming the invariant and the index when the index is outside', () => {
    expect(() => at([1, 2], 2, 'the last voter')).toThrow('invariant broken: the last voter (no item at index 2 of 2)');
    expect(() => at([1, 2], -1, 'the last voter')).toThrow('index -1');
  });

  it('known returns a set value, including null and 0, and throws naming the invariant for undefined', () => {
    expect(known(0, 'a count')).toBe(0);
    expect(known(null, 'a nullable')).toBeNull();
    expect(() => known(new Map<string, number>().get('x'), 'the job of a queued task')).toThrow(
      'invariant broken: the job of a queued task',
    );
  });
});
