// @ts-check
// Big DAGs drawn as summaries: a job of more than MAX_DRAWN_SPECS specs is drawn by level (a
// spec's longest chain of deps), each level, or run of levels, one box with the counts of all its
// specs' tasks. Laying out 20,000 boxes took dagre over a minute; 40 take milliseconds. A level's
// specs are listed in its panel, and a spec's tasks are read page by page from the API.

/** @import { SpecSummary, TaskState } from '../../scheduler/types.js' */
/** @import { Counts } from './util.js' */

/** More specs than this are drawn by level. */
export const MAX_DRAWN_SPECS = 150;
/** At most this many level boxes: deeper DAGs put runs of consecutive levels in one box. */
const MAX_BANDS = 40;

/**
 * One box standing for the specs of a run of levels. Its name holds a space, which no spec name
 * can (docs/dag-file.md), so it never clashes with a spec's.
 * @typedef {{ name: string, deps: string[], shards: number, members: string[] }} Band
 */

/**
 * Each spec's level: 0 without deps, else one more than its deepest dep (Kahn's order, so a spec
 * is placed after all its deps whatever the file order).
 * @param {readonly SpecSummary[]} specs
 * @returns {Map<string, number>}
 */
export function levelsOf(specs) {
  /** @type {Map<string, number>} */
  const index = new Map(specs.map((sp, i) => [sp.name, i]));
  const waiting = specs.map((sp) => sp.deps.filter((d) => index.has(d)).length);
  /** @type {number[][]} */
  const dependents = specs.map(() => []);
  specs.forEach((sp, i) => {
    for (const d of sp.deps) {
      const j = index.get(d);
      if (j !== undefined) dependents[j]?.push(i);
    }
  });
  const level = specs.map(() => 0);
  const queue = specs.flatMap((_, i) => (waiting[i] === 0 ? [i] : []));
  for (let q = 0; q < queue.length; q++) {
    const i = /** @type {number} */ (queue[q]);
    for (const j of dependents[i] ?? []) {
      level[j] = Math.max(level[j] ?? 0, (level[i] ?? 0) + 1);
      waiting[j] = (waiting[j] ?? 1) - 1;
      if (waiting[j] === 0) queue.push(j);
    }
  }
  return new Map(specs.map((sp, i) => [sp.name, level[i] ?? 0]));
}

/**
 * The boxes of a big job (null when it is small enough to draw spec by spec).
 * @param {readonly SpecSummary[]} specs
 * @returns {Band[] | null}
 */
export function bandsOf(specs) {
  if (specs.length <= MAX_DRAWN_SPECS) return null;
  const levels = levelsOf(specs);
  const depth = Math.max(0, ...levels.values()) + 1;
  const perBand = Math.ceil(depth / MAX_BANDS);
  /** @param {number} level */
  const bandOf = (level) => Math.floor(level / perBand);
  const count = bandOf(depth - 1) + 1;
  /** @type {Band[]} */
  const bands = Array.from({ length: count }, (_, b) => {
    const lo = b * perBand + 1;
    const hi = Math.min(depth, (b + 1) * perBand);
    return { name: lo === hi ? `level ${lo}` : `levels ${lo}–${hi}`, deps: [], shards: 0, members: [] };
  });
  /** @type {Set<string>[]} */
  const deps = bands.map(() => new Set());
  for (const sp of specs) {
    const b = bandOf(levels.get(sp.name) ?? 0);
    const band = /** @type {Band} */ (bands[b]);
    band.members.push(sp.name);
    band.shards += sp.shards ?? 1;
    for (const d of sp.deps) {
      const db = bandOf(levels.get(d) ?? 0);
      if (db !== b) deps[b]?.add(/** @type {Band} */ (bands[db]).name);
    }
  }
  bands.forEach((band, b) => band.deps.push(...(deps[b] ?? [])));
  return bands.filter((band) => band.members.length > 0);
}

/**
 * The counts of `names`' tasks, summed from their specs' counts.
 * @param {ReadonlyMap<string, SpecSummary>} byName
 * @param {readonly string[]} names
 * @returns {Record<TaskState, number>}
 */
export function sumCounts(byName, names) {
  /** @type {Record<TaskState, number>} */
  const c = { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const n of names) {
    const sc = byName.get(n)?.counts;
    if (sc === undefined) continue;
    for (const k of /** @type {TaskState[]} */ (Object.keys(c))) c[k] += sc[k];
  }
  return c;
}

/** @param {Counts} c */
export function totalOf(c) {
  return c.waiting + c.ready + c.running + c.succeeded + c.failed + c.skipped;
}
