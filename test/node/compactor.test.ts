// The compactor's sliced snapshots (docs/architecture.md §5, Compaction): a big state is encoded a
// slice per turn of the event loop, handed to the core at the next advance with the index it
// started at, and dropped when a snapshot from the leader replaces the state meanwhile.
import { describe, expect, it } from 'vitest';
import { Compactor, type CompactableState } from '../../src/node/compactor.js';
import type { SlicedEncoding } from '../../src/node/cluster-state.js';
import type { Snapshot } from '../../src/raft/types.js';

/** A state whose encoding takes `slices` steps; `applied` is moved by the test. */
class FakeState implements CompactableState<null> {
  applied = 0;
  started: number[] = [];
  abandoned = 0;
  constructor(private readonly slices: number) {}
  apply(): { request: null; result: null } {
    return { request: null, result: null };
  }
  restore(snap: Snapshot): void {
    this.applied = snap.meta.index;
  }
  encode(): Uint8Array {
    return Uint8Array.of(this.applied);
  }
  startEncode(): SlicedEncoding {
    const at = this.applied;
    this.started.push(at);
    let left = this.slices;
    return {
      step: () => (--left > 0 ? null : Uint8Array.of(at)),
      abandon: () => {
        this.abandoned++;
      },
    };
  }
}

function setup(slices: number) {
  const state = new FakeState(slices);
  const compacted: [number, number[]][] = [];
  const deferred: (() => void)[] = [];
  const driver = { compact: (index: number, data: Uint8Array) => (compacted.push([index, [...data]]), true) };
  const quiet = { info: () => undefined };
  const c = new Compactor(driver, state, 10, quiet, null, { slices: { stepTasks: 100, defer: (fn) => deferred.push(fn) } });
  const runDeferred = () => {
    while (deferred.length > 0) deferred.shift()?.();
  };
  return { state, c, compacted, deferred, runDeferred };
}

describe('compactor', () => {
  it('a state encoded in one step is compacted at once, at the applied index', () => {
    const { state, c, compacted, deferred } = setup(1);
    state.applied = 1;
    c.afterAdvance();
    expect(compacted).toEqual([[1, [1]]]);
    expect(deferred).toHaveLength(0);
  });

  it('a big state is encoded over later turns and handed over at the next advance, at the index it started at', () => {
    const { state, c, compacted, deferred, runDeferred } = setup(4);
    state.applied = 1;
    c.afterAdvance();
    expect(compacted).toEqual([]);
    expect(deferred).toHaveLength(1);
    state.applied = 5;
    c.afterAdvance(); // still encoding: nothing new starts
    expect(state.started).toEqual([1]);
    runDeferred();
    expect(compacted).toEqual([]);
    state.applied = 7;
    c.afterAdvance();
    expect(compacted).toEqual([[1, [1]]]);
    // The next one is due `every` entries after the snapshot's index, not after the hand-over.
    state.applied = 11;
    c.afterAdvance();
    expect(state.started).toEqual([1, 11]);
  });

  it('a snapshot from the leader abandons the encoding in progress', () => {
    const { state, c, compacted, runDeferred } = setup(3);
    state.applied = 1;
    c.afterAdvance();
    c.machine().restore({ meta: { index: 50, term: 2, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array(0) });
    expect(state.abandoned).toBe(1);
    runDeferred();
    c.afterAdvance();
    expect(compacted).toEqual([]);
    state.applied = 60;
    c.afterAdvance();
    expect(state.started).toEqual([1, 60]);
  });
});
