import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventHub, effectEvents, formatEvent, type EventSink } from '../../src/api/events.js';
import type { Effect } from '../../src/scheduler/types.js';

class FakeSink implements EventSink {
  chunks: string[] = [];
  writableLength = 0;
  destroyed = false;
  /** When false, nothing written is "sent": it all stays buffered. */
  constructor(private readonly drains = true) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    if (!this.drains) this.writableLength += Buffer.byteLength(chunk);
    return this.drains;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const taskEffect: Effect = {
  type: 'task',
  job: 'j1',
  task: 3,
  name: 'x[1]',
  from: 'ready',
  to: 'running',
  node: 'n1',
  attempt: 2,
  fence: 40,
  reason: null,
};

afterEach(() => {
  vi.useRealTimers();
});

describe('effectEvents', () => {
  it('maps task, range, job, submit and removal effects, and drops the rest', () => {
    const effects: Effect[] = [
      { type: 'submitted', requested: 'j1', job: 'j1', existing: false },
      { type: 'submitted', requested: 'j2', job: 'j1', existing: true },
      taskEffect,
      { type: 'tasks', job: 'j1', start: 0, end: 5000, from: 'waiting', to: 'ready', reason: null },
      { type: 'stop', job: 'j1', task: 3, node: 'n1', attempt: 2, reason: 'cancelled' },
      { type: 'ignored', command: 'claim', reason: 'taken' },
      { type: 'job', job: 'j1', state: 'succeeded' },
      { type: 'removed', job: 'j1' },
    ];
    expect(effectEvents(effects, 7)).toEqual([
      { type: 'job', index: 7, job: 'j1', state: 'submitted' },
      { type: 'task', index: 7, job: 'j1', task: 'x[1]', from: 'ready', to: 'running', node: 'n1', attempt: 2, reason: null },
      { type: 'tasks', index: 7, job: 'j1', start: 0, end: 5000, from: 'waiting', to: 'ready', reason: null },
      { type: 'job', index: 7, job: 'j1', state: 'succeeded' },
      { type: 'removed', index: 7, job: 'j1' },
    ]);
  });

  it('formats one SSE frame per event with its name, the log index as id, and JSON data', () => {
    const [ev] = effectEvents([taskEffect], 9);
    const text = formatEvent(ev as never);
    expect(text.endsWith('\n\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('event: task');
    expect(lines[1]).toBe('id: 9');
    expect(JSON.parse((lines[2] as string).slice('data: '.length))).toMatchObject({ task: 'x[1]', attempt: 2 });
  });
});

describe('EventHub', () => {
  it('sends each batch to every client as one write, and nothing once unsubscribed', () => {
    const hub = new EventHub();
    const a = new FakeSink();
    const b = new FakeSink();
    const offA = hub.subscribe(a);
    hub.subscribe(b);
    hub.publish([taskEffect, { type: 'job', job: 'j1', state: 'failed' }], 4);
    expect(a.chunks).toHaveLength(1);
    expect(a.chunks[0]).toContain('event: task');
    expect(a.chunks[0]).toContain('event: job');
    offA?.();
    hub.publish([taskEffect], 5);
    expect(a.chunks).toHaveLength(1);
    expect(b.chunks).toHaveLength(2);
    expect(hub.size).toBe(1);
    hub.close();
    expect(b.destroyed).toBe(true);
    expect(hub.size).toBe(0);
  });

  it('disconnects a client whose unsent bytes would exceed the bound, and keeps the others', () => {
    const hub = new EventHub({ maxBufferedBytes: 2048 });
    const slow = new FakeSink(false);
    const fast = new FakeSink();
    const dropped: string[] = [];
    hub.subscribe(slow, (why) => dropped.push(why));
    hub.subscribe(fast);
    for (let i = 0; i < 50; i++) hub.publish([taskEffect], i);
    expect(slow.destroyed).toBe(true);
    expect(slow.writableLength).toBeLessThanOrEqual(2048);
    expect(dropped[0]).toMatch(/reads too slowly/);
    expect(hub.slowDisconnects).toBe(1);
    expect(fast.chunks).toHaveLength(50);
    expect(hub.size).toBe(1);
  });

  it('sends keep-alive comments while clients are connected, and stops its timer when none are', () => {
    vi.useFakeTimers();
    const hub = new EventHub({ keepAliveMs: 1000 });
    const s = new FakeSink();
    const off = hub.subscribe(s);
    vi.advanceTimersByTime(3500);
    expect(s.chunks.filter((c) => c === ': keep-alive\n\n')).toHaveLength(3);
    off?.();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses clients beyond its limit and formats nothing when no one listens', () => {
    const hub = new EventHub({ maxClients: 1 });
    expect(hub.subscribe(new FakeSink())).not.toBeNull();
    expect(hub.full).toBe(true);
    expect(hub.subscribe(new FakeSink())).toBeNull();
    hub.close();
    const idle = new EventHub();
    const spy = vi.fn(() => []);
    idle.publish({ [Symbol.iterator]: spy } as never, 1);
    expect(spy).not.toHaveBeenCalled();
  });
});
