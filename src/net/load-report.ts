// The load report's wire format on meshrun/load/1: one small JSON object per gossip message,
// with a format version, every field bounded (docs/architecture.md §8), validated by zod on the way in
// and on the way out, so a node never publishes what its peers would reject. Bounded beyond the
// types too: free and running slots never exceed the slots, and slots never exceed MAX_SLOTS.
// The node's name, API URL and log size are optional fields added later within format 1: older
// nodes drop them (zod strips unknown keys), and a report without them is still valid.
import { z } from 'zod';
import type { LoadReport } from './types.js';

const FORMAT_VERSION = 1;

/** A report is a few hundred bytes; 64 handlers of 64 chars is about 4.3 KiB. */
export const MAX_REPORT_BYTES = 8 * 1024;
const MAX_HANDLERS = 64;
const MAX_HANDLER_CHARS = 64;
const MAX_ID_CHARS = 256;
/** A node name: what `--name` accepts (src/node/options.ts). */
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_API_URL_CHARS = 256;

/**
 * More slots than any machine runs tasks at once: a report claiming more is a lie or a bug, and
 * believing it would send every task to that node.
 */
export const MAX_SLOTS = 4096;

const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const SlotCount = z.number().int().nonnegative().max(MAX_SLOTS);
const ReportSchema = z
  .object({
    v: z.literal(FORMAT_VERSION),
    node: z.string().min(1).max(MAX_ID_CHARS),
    slots: SlotCount,
    free: SlotCount,
    running: SlotCount,
    handlers: z.array(z.string().min(1).max(MAX_HANDLER_CHARS)).max(MAX_HANDLERS),
    applied: Count,
    at: Count,
    name: z.string().regex(NODE_NAME).optional(),
    api: z.string().max(MAX_API_URL_CHARS).refine(isApiUrl, 'an http:// or https:// URL without credentials, path or query').optional(),
    logBytes: Count.optional(),
  })
  // Each field may be in range and the whole still impossible: free or running slots beyond the total.
  .superRefine((r, ctx) => {
    if (r.free > r.slots) ctx.addIssue({ code: 'custom', path: ['free'], message: `${r.free} free slots of ${r.slots}` });
    if (r.running > r.slots) ctx.addIssue({ code: 'custom', path: ['running'], message: `${r.running} running of ${r.slots} slots` });
  });

/** `http(s)://host:port` and nothing more: a client may send its requests there. */
function isApiUrl(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  return (
    (u.protocol === 'http:' || u.protocol === 'https:') &&
    u.username === '' &&
    u.password === '' &&
    (u.pathname === '/' || u.pathname === '') &&
    u.search === '' &&
    u.hash === '' &&
    !/\s/.test(s)
  );
}

export class LoadReportError extends Error {
  override readonly name = 'LoadReportError';
}

/** Same load, ignoring the timestamp: a report that only ticks the clock is not a change. */
export function sameLoad(a: LoadReport, b: LoadReport): boolean {
  return (
    a.node === b.node &&
    a.slots === b.slots &&
    a.free === b.free &&
    a.running === b.running &&
    a.applied === b.applied &&
    a.name === b.name &&
    a.api === b.api &&
    a.logBytes === b.logBytes &&
    a.handlers.length === b.handlers.length &&
    a.handlers.every((h, i) => h === b.handlers[i])
  );
}

/** Bytes of a gossip message to a report, or null when they are not a valid one. */
export function decodeLoadReport(data: Uint8Array): LoadReport | null {
  if (data.length > MAX_REPORT_BYTES) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return null;
  }
  const r = ReportSchema.safeParse(raw);
  if (!r.success) return null;
  const { v: _v, ...report } = r.data;
  return report;
}

/** Throws a LoadReportError naming the first problem if peers would refuse `report`. */
export function checkOwnReport(report: LoadReport): void {
  const check = ReportSchema.safeParse({ v: FORMAT_VERSION, ...report });
  if (!check.success) {
    const issue = check.error.issues[0];
    throw new LoadReportError(`invalid load report: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
  }
}

/**
 * checkOwnReport for a node that publishes after every applied entry (hundreds of times a second
 * under load, though at most one report per period goes out): zod's run over the whole report on
 * each call was 3 % of a node's CPU in the scheduler benchmark (issue 16). Between two calls only
 * the counts change as a rule, so once zod has accepted a report, a report with the same node,
 * name, API URL and handlers is checked by countsValid, which accepts exactly the counts
 * ReportSchema accepts; anything else (other texts, or counts it refuses) goes through zod, which
 * names the problem.
 */
export class OwnReportCheck {
  /** The texts of the last report zod accepted. */
  private accepted: Pick<LoadReport, 'node' | 'name' | 'api' | 'handlers'> | null = null;

  /** Throws a LoadReportError naming the first problem if peers would refuse `report`. */
  check(report: LoadReport): void {
    const a = this.accepted;
    if (a !== null && sameTexts(a, report) && countsValid(report)) return;
    checkOwnReport(report);
    this.accepted = { node: report.node, name: report.name, api: report.api, handlers: [...report.handlers] };
  }
}

function sameTexts(a: Pick<LoadReport, 'node' | 'name' | 'api' | 'handlers'>, b: LoadReport): boolean {
  return (
    a.node === b.node &&
    a.name === b.name &&
    a.api === b.api &&
    a.handlers.length === b.handlers.length &&
    a.handlers.every((h, i) => h === b.handlers[i])
  );
}

/** ReportSchema's rules for the numbers (Count, SlotCount and the superRefine), without zod. */
function countsValid(r: LoadReport): boolean {
  const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  const slotCount = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_SLOTS;
  return (
    slotCount(r.slots) &&
    slotCount(r.free) &&
    slotCount(r.running) &&
    r.free <= r.slots &&
    r.running <= r.slots &&
    count(r.applied) &&
    count(r.at) &&
    (r.logBytes === undefined || count(r.logBytes))
  );
}

export function encodeLoadReport(report: LoadReport): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: FORMAT_VERSION, ...report }));
}
