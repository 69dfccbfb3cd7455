// Schedules in the replicated state machine (docs/schedules.md §3): the committed `fire` decides
// each tick once, the overlap and catchup policies, the schedule commands' answers, and snapshots.
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import type { ScheduleSpec } from '../../src/scheduler/schedule-types.js';
import { runJobId } from '../../src/scheduler/schedules.js';
import type { Command } from '../../src/scheduler/types.js';
import { Driver, every, ofType } from './machine-helpers.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function driver(): Driver {
  const d = new Driver();
  d.time = T0;
  return d;
}

function put(d: Driver, spec: ScheduleSpec, request = 'r1') {
  return d.do({ type: 'schedule-put', request, spec, at: 0 });
}

function fire(d: Driver, schedule: string, tick: number, at = d.time) {
  return d.do({ type: 'fire', items: [{ schedule, tick }] }, at - d.time);
}

function fired(effects: ReturnType<Driver['do']>) {
  return ofType(effects, 'schedule-tick').filter((e) => e.outcome === 'fired');
}

describe('schedules in the state machine', () => {
  it('creates a schedule whose next tick follows the cluster time of its entry', () => {
    const d = driver();
    const out = put(d, every('s', 10_000), 'req');
    expect(ofType(out, 'schedule-changed')).toEqual([
      { type: 'schedule-changed', request: 'req', name: 's', change: 'created', job: null },
    ]);
    expect(d.m.schedule('s')?.nextAt).toBe(T0 + 10_000);
    expect(put(d, every('s', 20_000), 'again').find((e) => e.type === 'schedule-changed')).toMatchObject({ change: 'replaced' });
    expect(d.m.schedule('s')?.nextAt).toBe(T0 + 20_000);
  });

  it('fires a due tick once, with a job id derived from schedule and tick, however often it is proposed', () => {
    const d = driver();
    put(d, every('s', 10_000, { params: { TARGET: 'prod' } }));
    const tick = T0 + 10_000;
    expect(fired(fire(d, 's', tick, tick - 1))).toEqual([]); // not due yet in cluster time
    const first = fired(fire(d, 's', tick, tick + 5));
    expect(first).toEqual([
      { type: 'schedule-tick', schedule: 's', tick, outcome: 'fired', job: runJobId('s', tick), at: tick + 5, count: 1, lastTick: tick },
    ]);
    for (let i = 0; i < 3; i++) expect(fired(fire(d, 's', tick, tick + 10 + i))).toEqual([]);
    const view = d.m.job(runJobId('s', tick));
    expect(view).toMatchObject({ schedule: 's', tick, state: 'running' });
    expect(d.m.jobs().filter((j) => j.schedule === 's')).toHaveLength(1);
    const launch = d.m.jobSpec(runJobId('s', tick));
    expect(launch?.tasks[0]?.env).toEqual({ TARGET: 'prod' });
    expect(d.m.schedule('s')?.runs).toEqual([{ tick, job: runJobId('s', tick), state: 'running', triggered: false }]);
    expect(d.m.schedule('s')?.nextAt).toBe(tick + 10_000);
  });

  it('forbid skips a tick while a run is active; replace cancels the active run first', () => {
    const d = driver();
    put(d, every('f', 1000, { overlap: 'forbid' }));
    put(d, every('r', 1000, { overlap: 'replace' }), 'r2');
    d.do(
      {
        type: 'fire',
        items: [
          { schedule: 'f', tick: T0 + 1000 },
          { schedule: 'r', tick: T0 + 1000 },
        ],
      },
      1000,
    );
    const out = d.do(
      {
        type: 'fire',
        items: [
          { schedule: 'f', tick: T0 + 2000 },
          { schedule: 'r', tick: T0 + 2000 },
        ],
      },
      1000,
    );
    expect(ofType(out, 'schedule-tick').map((e) => [e.schedule, e.outcome])).toEqual([
      ['f', 'skipped'],
      ['r', 'fired'],
    ]);
    expect(d.m.job(runJobId('r', T0 + 1000))?.state).toBe('cancelled');
    expect(d.m.job(runJobId('r', T0 + 2000))?.state).toBe('running');
    expect(d.m.schedule('f')?.skipped).toBe(1);
  });

  it('after missed ticks: none fires only the newest if on time, latest the newest, all each up to the bound', () => {
    const all = Array.from({ length: 100 }, (_, i) => T0 + 120_000 - (99 - i) * 1000);
    for (const [catchup, want] of [
      ['none', [T0 + 120_000]],
      ['latest', [T0 + 120_000]],
      ['all', all],
    ] as const) {
      const d = driver();
      put(d, every('s', 1000, { catchup }));
      // The cluster was down for two minutes: the next entry is 120.5 s later.
      const out = fire(d, 's', T0 + 1000, T0 + 120_500);
      expect(
        fired(out).map((e) => e.tick),
        catchup,
      ).toEqual(want);
      const missed = ofType(out, 'schedule-tick').filter((e) => e.outcome === 'missed');
      expect(
        missed.reduce((n, e) => n + e.count, 0),
        catchup,
      ).toBe(120 - want.length);
      expect(missed[0]).toMatchObject({ tick: T0 + 1000, lastTick: T0 + 120_000 - want.length * 1000 });
      expect(d.m.schedule('s')?.nextAt, catchup).toBe(T0 + 121_000);
    }
  });

  it('catchup none misses a tick decided more than a minute late; latest still fires it', () => {
    for (const [catchup, want] of [
      ['none', []],
      ['latest', [T0 + 300_000]],
    ] as const) {
      const d = driver();
      put(d, every('s', 300_000, { catchup }));
      expect(
        fired(fire(d, 's', T0 + 300_000, T0 + 390_000)).map((e) => e.tick),
        catchup,
      ).toEqual(want);
    }
  });

  it("counts ticks from the proposer's clock when the entry carries no time yet (a new cluster)", () => {
    const d = driver();
    d.time = 0;
    d.do({ type: 'schedule-put', request: 'r', spec: every('s', 1000, { catchup: 'all' }), at: T0 });
    expect(d.m.schedule('s')?.nextAt).toBe(T0 + 1000);
    // The next entries carry the cluster's time: nothing since 1970 is owed.
    expect(fired(fire(d, 's', T0 + 1000, T0 + 1500)).map((e) => e.tick)).toEqual([T0 + 1000]);
  });

  it('catchup none still fires a tick decided a little late (within its period)', () => {
    const d = driver();
    put(d, every('s', 10_000, { catchup: 'none' }));
    expect(fired(fire(d, 's', T0 + 10_000, T0 + 12_000)).map((e) => e.tick)).toEqual([T0 + 10_000]);
  });

  it('pause, resume, trigger and delete answer the request; unknown names are not-found', () => {
    const d = driver();
    put(d, every('s', 1000, { overlap: 'forbid' }));
    expect(ofType(d.do({ type: 'schedule-pause', request: 'p', name: 's', paused: true, at: 0 }), 'schedule-changed')[0]?.change).toBe(
      'paused',
    );
    expect(d.m.schedule('s')?.nextAt).toBeNull();
    expect(fired(fire(d, 's', T0 + 1000, T0 + 5000))).toEqual([]);
    expect(ofType(d.do({ type: 'schedule-pause', request: 'q', name: 's', paused: false, at: 0 }), 'schedule-changed')[0]?.change).toBe(
      'resumed',
    );
    // Ticks that fell while paused are not owed.
    expect(d.m.schedule('s')?.nextAt).toBe(T0 + 6000);
    const trig = d.do({ type: 'schedule-trigger', request: 't', name: 's', id: 'abc123abc123' });
    expect(ofType(trig, 'schedule-changed')[0]).toMatchObject({ change: 'triggered', job: 'abc123abc123' });
    expect(d.m.job('abc123abc123')).toMatchObject({ schedule: 's', tick: T0 + 5000 });
    // forbid: a second trigger while the first runs is a conflict.
    expect(ofType(d.do({ type: 'schedule-trigger', request: 'u', name: 's', id: 'abc123abc124' }), 'schedule-refused')[0]?.code).toBe(
      'conflict',
    );
    expect(ofType(d.do({ type: 'schedule-delete', request: 'd', name: 's' }), 'schedule-changed')[0]?.change).toBe('deleted');
    expect(d.m.schedules()).toEqual([]);
    expect(ofType(d.do({ type: 'schedule-delete', request: 'e', name: 's' }), 'schedule-refused')[0]?.code).toBe('not-found');
  });

  it('refuses an invalid schedule on apply, naming the problem', () => {
    const d = driver();
    const out = put(d, every('bad name!', 10, { params: { MESHRUN_X: '1' } }));
    const refused = ofType(out, 'schedule-refused')[0];
    expect(refused?.code).toBe('invalid');
    expect(refused?.error).toMatch(/name 'bad name!'/);
    expect(refused?.error).toMatch(/every must be/);
    expect(refused?.error).toMatch(/MESHRUN_X/);
  });

  it('survives a snapshot: a restored replica decides the next ticks as the original does', () => {
    const d = driver();
    put(d, every('s', 1000, { overlap: 'forbid' }));
    put(d, { ...every('c', 0), cadence: { kind: 'cron', expr: '*/2 * * * * *' }, timezone: 'Europe/Berlin' }, 'r2');
    fire(d, 's', T0 + 1000, T0 + 1000);
    fire(d, 'c', T0 + 2000, T0 + 2000);
    const copy = new Driver(Scheduler.restore(d.m.encode()));
    copy.time = d.time;
    copy.index = d.index;
    expect(copy.m.hash()).toBe(d.m.hash());
    expect(copy.m.schedules()).toEqual(d.m.schedules());
    for (const x of [d, copy]) {
      x.do(
        {
          type: 'fire',
          items: [
            { schedule: 's', tick: T0 + 3000 },
            { schedule: 'c', tick: T0 + 4000 },
          ],
        },
        2500,
      );
    }
    expect(copy.m.hash()).toBe(d.m.hash());
    expect(copy.m.schedule('s')?.skipped).toBe(3);
  });

  it('still reads snapshots of formats 2, 3 and 4 (before schedules): no schedules, jobs without origin', () => {
    const d = driver();
    // Format 7 is format 6 plus each node's `ahead` (no nodes here) and the staged submits at the
    // end (none: one 0 byte).
    const v7 = d.m.encode();
    expect(v7[0]).toBe(7);
    const v6 = Uint8Array.from([6, ...v7.subarray(1, v7.length - 1)]);
    // Format 6 is format 5 plus each node's labels (no nodes here) and the pools at the end (none:
    // one 0 byte); format 5 is format 4 plus the schedules (none: one 0 byte) and each job's
    // origin flag (no jobs); without jobs, formats 4 (outputs) and 3 (attempt history, job
    // timeouts) are format 2.
    expect([...v6.subarray(-2)]).toEqual([0, 0]);
    const v5 = Uint8Array.from([5, ...v6.subarray(1, v6.length - 1)]);
    expect(Scheduler.restore(v5).hash()).toBe(d.m.hash());
    for (const format of [2, 3, 4]) {
      const older = Uint8Array.from([format, ...v5.subarray(1, v5.length - 1)]);
      const restored = Scheduler.restore(older);
      expect(restored.hash()).toBe(d.m.hash());
      expect(restored.schedules()).toEqual([]);
    }
  });

  it('encodes and decodes every schedule command', () => {
    const cmds: Command[] = [
      {
        type: 'schedule-put',
        request: 'r',
        spec: {
          ...every('n', 1000, { params: { A: 'b' } }),
          cadence: { kind: 'cron', expr: '30 2 * * *' },
          timezone: 'Europe/Berlin',
          catchup: 'latest',
          overlap: 'replace',
        },
        at: T0,
      },
      { type: 'schedule-put', request: 'r', spec: every('n', 60_000, { paused: true }), at: 0 },
      { type: 'schedule-delete', request: 'r', name: 'n' },
      { type: 'schedule-pause', request: 'r', name: 'n', paused: true, at: 0 },
      { type: 'schedule-pause', request: 'r', name: 'n', paused: false, at: T0 },
      { type: 'schedule-trigger', request: 'r', name: 'n', id: '0123456789ab' },
      {
        type: 'fire',
        items: [
          { schedule: 'a', tick: T0 },
          { schedule: 'b', tick: T0 + 1 },
          { schedule: 'a', tick: T0 + 2 },
        ],
      },
    ];
    for (const c of cmds) expect(decodeCommand(encodeCommand(c))).toEqual({ ok: true, value: c });
  });
});
