// Schedule commands and schedules as bytes (SchedulePut, ScheduleChange, Fire and Schedule in
// src/proto/scheduler.proto), for the command codec and the snapshot. Decoding bounds every
// number, name and list; the cadence, the policies' meaning and the DAG are re-checked by the state
// machine on apply (checkScheduleSpec, schedules.ts).
import { CodecError, type DecodeResult } from '../codec/binary.js';
import {
  decodeFail as fail,
  decodeProto,
  encodeProto,
  readInt,
  readNonEmpty,
  readText,
  writeInt,
  writeNonEmpty,
  writeText,
} from '../codec/proto.js';
import * as pb from '../proto/scheduler.js';
import { MAX_CRON_BYTES, MAX_TIMEZONE_BYTES } from '../schedule/cadence.js';
import { DAG_LIMITS as L } from './dag-limits.js';
import { JOB_SPEC_LIMITS, jobSpecIn, jobSpecOut } from './job-spec-codec.js';
import {
  MAX_PARAMS,
  MAX_SCHEDULES,
  type CatchupPolicy,
  type FireItem,
  type OverlapPolicy,
  type ScheduleCommand,
  type ScheduleSpec,
} from './schedule-types.js';

const MAX = Number.MAX_SAFE_INTEGER;
export const MAX_SCHEDULE_NAME_BYTES = 128;
export const MAX_REQUEST_BYTES = 128;
const MAX_JOB_ID_BYTES = 128;
/** Ticks in one fire command: one per schedule. */
export const MAX_FIRE_ITEMS = MAX_SCHEDULES;

/** Bounds on the lists of the schedule commands, for protons' decoder. */
export const SCHEDULE_LIMITS = {
  schedulePut: { schedule: { params: MAX_PARAMS, dag: JOB_SPEC_LIMITS } },
  fire: { schedules: MAX_FIRE_ITEMS, schedule: MAX_FIRE_ITEMS, tick: MAX_FIRE_ITEMS },
} as const;

const OVERLAP_OUT: Readonly<Record<OverlapPolicy, pb.Overlap>> = {
  allow: pb.Overlap.ALLOW,
  forbid: pb.Overlap.FORBID,
  replace: pb.Overlap.REPLACE,
};
const OVERLAP_IN: Readonly<Record<pb.Overlap, OverlapPolicy>> = { ALLOW: 'allow', FORBID: 'forbid', REPLACE: 'replace' };
const CATCHUP_OUT: Readonly<Record<CatchupPolicy, pb.Catchup>> = { none: pb.Catchup.NONE, latest: pb.Catchup.LATEST, all: pb.Catchup.ALL };
const CATCHUP_IN: Readonly<Record<pb.Catchup, CatchupPolicy>> = { NONE: 'none', LATEST: 'latest', ALL: 'all' };

// --- schedules ---------------------------------------------------------------------------------

export function scheduleOut(s: ScheduleSpec): pb.Schedule {
  const overlap = Object.hasOwn(OVERLAP_OUT, s.overlap) ? OVERLAP_OUT[s.overlap] : undefined;
  const catchup = Object.hasOwn(CATCHUP_OUT, s.catchup) ? CATCHUP_OUT[s.catchup] : undefined;
  if (overlap === undefined) throw new CodecError(`unknown overlap policy ${s.overlap}`);
  if (catchup === undefined) throw new CodecError(`unknown catchup policy ${s.catchup}`);
  const params = Object.keys(s.params);
  if (params.length > MAX_PARAMS) throw new CodecError(`${params.length} params (at most ${MAX_PARAMS})`);
  const out: pb.Schedule = {
    name: writeNonEmpty(s.name, 'schedule name', MAX_SCHEDULE_NAME_BYTES),
    timezone: writeNonEmpty(s.timezone, 'timezone', MAX_TIMEZONE_BYTES),
    overlap,
    catchup,
    paused: s.paused,
    params: params.map((name) => ({
      name: writeText(name, 'param name', L.maxEnvKeyBytes),
      value: writeText(s.params[name] ?? '', `param ${name}`, L.maxEnvValueBytes),
    })),
    dag: jobSpecOut(s.dag),
  };
  if (s.cadence.kind === 'cron') out.cron = writeNonEmpty(s.cadence.expr, 'cron expression', MAX_CRON_BYTES);
  else out.everyMs = writeInt(s.cadence.everyMs, 'everyMs', MAX);
  return out;
}

export function scheduleIn(p: pb.Schedule): ScheduleSpec {
  if ((p.cron === undefined) === (p.everyMs === undefined)) fail('a schedule needs exactly one of cron and every');
  if (p.dag === undefined) fail('a schedule without a DAG');
  const params: [string, string][] = [];
  const seen = new Set<string>();
  for (const v of p.params) {
    const name = readText(v.name, 'param name', L.maxEnvKeyBytes);
    if (seen.has(name)) fail(`param ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    params.push([name, readText(v.value, 'param value', L.maxEnvValueBytes)]);
  }
  return {
    name: readNonEmpty(p.name, 'schedule name', MAX_SCHEDULE_NAME_BYTES),
    cadence:
      p.cron !== undefined
        ? { kind: 'cron', expr: readNonEmpty(p.cron, 'cron expression', MAX_CRON_BYTES) }
        : { kind: 'every', everyMs: readInt(p.everyMs ?? 0, 'everyMs', MAX) },
    timezone: readNonEmpty(p.timezone, 'timezone', MAX_TIMEZONE_BYTES),
    overlap: OVERLAP_IN[p.overlap],
    catchup: CATCHUP_IN[p.catchup],
    paused: p.paused,
    // fromEntries defines own properties: a name like `__proto__` stays an ordinary key.
    params: Object.fromEntries(params),
    dag: jobSpecIn(p.dag),
  };
}

/** A schedule on its own (the scheduler's snapshot keeps each schedule this way). */
export function encodeScheduleSpec(s: ScheduleSpec): Uint8Array {
  return encodeProto(pb.Schedule.codec(), scheduleOut(s), 256 + s.dag.tasks.length * 32);
}

export function decodeScheduleSpec(bytes: Uint8Array): DecodeResult<ScheduleSpec> {
  return decodeProto(pb.Schedule.codec(), bytes, 'schedule', scheduleIn, { limits: SCHEDULE_LIMITS.schedulePut.schedule });
}

// --- commands ----------------------------------------------------------------------------------

const CHANGE_KIND: Readonly<Record<Exclude<ScheduleCommand['type'], 'schedule-put' | 'fire'>, pb.ScheduleChangeKind>> = {
  'schedule-delete': pb.ScheduleChangeKind.DELETE,
  'schedule-pause': pb.ScheduleChangeKind.PAUSE,
  'schedule-trigger': pb.ScheduleChangeKind.TRIGGER,
};

/** Sets the command's field of `out`; returns a size hint. */
export function scheduleCommandOut(cmd: ScheduleCommand, out: pb.Command): number {
  switch (cmd.type) {
    case 'schedule-put':
      out.schedulePut = {
        request: writeNonEmpty(cmd.request, 'request id', MAX_REQUEST_BYTES),
        schedule: scheduleOut(cmd.spec),
        at: writeInt(cmd.at, 'at', MAX),
      };
      return 256 + cmd.spec.dag.tasks.length * 32;
    case 'schedule-delete':
    case 'schedule-pause':
    case 'schedule-trigger': {
      const change: pb.ScheduleChange = {
        request: writeNonEmpty(cmd.request, 'request id', MAX_REQUEST_BYTES),
        name: writeNonEmpty(cmd.name, 'schedule name', MAX_SCHEDULE_NAME_BYTES),
        kind: cmd.type === 'schedule-pause' && !cmd.paused ? pb.ScheduleChangeKind.RESUME : CHANGE_KIND[cmd.type],
        at: cmd.type === 'schedule-pause' ? writeInt(cmd.at, 'at', MAX) : 0,
      };
      if (cmd.type === 'schedule-trigger') change.job = writeNonEmpty(cmd.id, 'job id', MAX_JOB_ID_BYTES);
      out.scheduleChange = change;
      return 64;
    }
    case 'fire': {
      if (cmd.items.length > MAX_FIRE_ITEMS) throw new CodecError(`${cmd.items.length} ticks in one fire (at most ${MAX_FIRE_ITEMS})`);
      const table = new Map<string, number>();
      for (const it of cmd.items) if (!table.has(it.schedule)) table.set(it.schedule, table.size);
      for (const name of table.keys()) writeNonEmpty(name, 'schedule name', MAX_SCHEDULE_NAME_BYTES);
      out.fire = {
        schedules: [...table.keys()],
        schedule: cmd.items.map((it) => table.get(it.schedule) ?? 0),
        tick: cmd.items.map((it) => writeInt(it.tick, 'tick', MAX)),
      };
      return 32 + cmd.items.length * 24;
    }
  }
}

/** The schedule command in `c`, if it holds one; throws `fail(...)` on a bad one. */
export function scheduleCommandIn(c: pb.Command): ScheduleCommand | undefined {
  if (c.schedulePut) {
    const p = c.schedulePut;
    if (p.schedule === undefined) fail('a schedule put without a schedule');
    return {
      type: 'schedule-put',
      request: readNonEmpty(p.request, 'request id', MAX_REQUEST_BYTES),
      spec: scheduleIn(p.schedule),
      at: readInt(p.at, 'at', MAX),
    };
  }
  if (c.scheduleChange) {
    const ch = c.scheduleChange;
    const request = readNonEmpty(ch.request, 'request id', MAX_REQUEST_BYTES);
    const name = readNonEmpty(ch.name, 'schedule name', MAX_SCHEDULE_NAME_BYTES);
    if ((ch.kind === pb.ScheduleChangeKind.TRIGGER) !== (ch.job !== undefined))
      fail('a job id belongs to a trigger, and a trigger needs one');
    switch (ch.kind) {
      case pb.ScheduleChangeKind.DELETE:
        return { type: 'schedule-delete', request, name };
      case pb.ScheduleChangeKind.PAUSE:
      case pb.ScheduleChangeKind.RESUME:
        return { type: 'schedule-pause', request, name, paused: ch.kind === pb.ScheduleChangeKind.PAUSE, at: readInt(ch.at, 'at', MAX) };
      case pb.ScheduleChangeKind.TRIGGER:
        return { type: 'schedule-trigger', request, name, id: readNonEmpty(ch.job ?? '', 'job id', MAX_JOB_ID_BYTES) };
    }
  }
  if (c.fire) {
    const f = c.fire;
    for (const name of f.schedules) readNonEmpty(name, 'schedule name', MAX_SCHEDULE_NAME_BYTES);
    if (f.schedule.length !== f.tick.length) fail(`${f.schedule.length} schedule positions for ${f.tick.length} ticks`);
    if (f.tick.length > 0 && f.schedules.length === 0) fail(`${f.tick.length} ticks with no schedule names`);
    const items: FireItem[] = f.tick.map((tick, k) => {
      const schedule = f.schedules[f.schedule[k] ?? 0];
      if (schedule === undefined) fail(`schedule position ${f.schedule[k] ?? 0} is not in the table of ${f.schedules.length}`);
      return { schedule, tick: readInt(tick, 'tick', MAX) };
    });
    return { type: 'fire', items };
  }
  return undefined;
}
