// A ready task no live node can run says why (docs/http-api.md §6), instead of waiting in silence.
import { describe, expect, it } from 'vitest';
import { Capacity } from '../../src/scheduler/runnable.js';
import { Driver, handlerTask, job, task } from './machine-helpers.js';

const node = (slots: number, handlers: string[], leaseUntil = 10_000) => ({ slots, handlers, leaseUntil });

describe('Capacity.whyNot', () => {
  const cap = new Capacity([node(2, ['noop', 'sleep']), node(4, ['noop']), node(64, ['gpu'], 500)], 1_000);

  it('names a handler no live node has, and the ones they have (a node whose lease ran out does not count)', () => {
    expect(cap.whyNot(handlerTask('a', 'sleepy'))).toBe("no node has handler 'sleepy' (known: noop, sleep)");
    expect(cap.whyNot(handlerTask('a', 'gpu'))).toBe("no node has handler 'gpu' (known: noop, sleep)");
  });

  it('names the slots no node has, among those with the handler', () => {
    expect(cap.whyNot(task('a', { slots: 8 }))).toBe('no node has 8 slots (the largest has 4)');
    expect(cap.whyNot(handlerTask('a', 'sleep', { slots: 3 }))).toBe("no node with handler 'sleep' has 3 slots (the largest has 2)");
  });

  it('is null when a live node can run it, and says when no node is live at all', () => {
    expect(cap.whyNot(handlerTask('a', 'noop', { slots: 4 }))).toBeNull();
    expect(cap.whyNot(task('a'))).toBeNull();
    expect(new Capacity([], 0).whyNot(task('a'))).toBe('no live node (none has sent a heartbeat within its lease)');
  });
});

describe('the job view', () => {
  it('gives the reason to ready tasks nobody can run, and drops it once a node can', () => {
    const d = new Driver();
    d.hb('n1', { handlers: ['noop', 'sleep'] });
    d.submit(
      'j',
      job([
        handlerTask('typo', 'sleepy', { shards: 2 }),
        task('big', { slots: 16 }),
        task('fine'),
        task('later', { deps: ['fine'], slots: 16 }),
      ]),
    );
    const v = d.m.job('j');
    expect(v?.tasks['typo[1]']).toMatchObject({ state: 'ready', reason: "no node has handler 'sleepy' (known: noop, sleep)" });
    expect(v?.tasks['big']).toMatchObject({ state: 'ready', reason: 'no node has 16 slots (the largest has 4)' });
    expect(v?.tasks['fine']).toMatchObject({ state: 'ready', reason: null });
    // Only ready tasks: one still waiting for its deps says nothing yet.
    expect(v?.tasks['later']).toMatchObject({ state: 'waiting', reason: null });
    d.hb('n2', { handlers: ['sleepy'], slots: 16 });
    expect(d.m.job('j')?.tasks['typo[0]']?.reason).toBeNull();
    expect(d.m.job('j')?.tasks['big']?.reason).toBeNull();
  });
});
