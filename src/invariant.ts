// Reads that an invariant of the caller guarantees: an index inside an array, a key in a map.
// With `noUncheckedIndexedAccess` on, `items[i]` is `T | undefined`; where the code's own
// invariant says the value is there, these say so in one call and throw, naming the invariant,
// if it is ever broken (a bug, never bad input: bad input gets its own check and message).
// Pure (no I/O), so the Raft core and the scheduler machine may use them.

/** `items[index]`, which the caller's invariant says exists (arrays without holes). */
export function at<T>(items: ArrayLike<T>, index: number, what: string): T {
  const item = items[index];
  if (item === undefined) throw new Error(`invariant broken: ${what} (no item at index ${index} of ${items.length})`);
  return item;
}

/** `value`, which the caller's invariant says is set (a map entry, a found item). */
export function known<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`invariant broken: ${what}`);
  return value;
}
