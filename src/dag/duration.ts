// Durations as people write them in DAG files and on the command line: a number and a unit
// (`250ms`, `2s`, `1.5s`, `10m`, `1h`, `30d`, `2w`), or several such parts with falling units
// (`1h30m`, `2m30s`, `1d12h`). Parsed to whole milliseconds with exact decimal arithmetic, so `1.1s` is 1100 ms and
// not 1100.0000000000002, and the same text gives the same number on every replica.

export const DURATION_FORMS = '250ms, 2s, 1.5s, 10m, 1h, 1h30m, 30d or 2w';

/** A duration text that could not be read; the message says why and shows the accepted forms. */
export class DurationError extends Error {
  override readonly name = 'DurationError';
}

const DAY_MS = 86_400_000;
const UNIT_MS = { w: 7 * DAY_MS, d: DAY_MS, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Rank of each unit in a compound: each part's unit must be smaller than the one before. */
const UNIT_RANK: Readonly<Record<Unit, number>> = { w: 0, d: 1, h: 2, m: 3, s: 4, ms: 5 };

// `ms` before `m` so the alternation does not stop at `m` of `ms`.
const PART = /(\d{1,15})(?:\.(\d{1,9}))?(ms|w|d|h|m|s)/y;

/** Milliseconds in `text`; throws DurationError. Zero (`0s`) is a valid duration. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new DurationError(`a duration must be a string like ${DURATION_FORMS}`);
  const s = text.trim();
  if (s === '') throw new DurationError(`empty duration: expected a number and a unit, like ${DURATION_FORMS}`);
  if (/^\d+(\.\d+)?$/.test(s)) throw new DurationError(`duration '${s}' has no unit: write ${s}s, ${s}ms, ${s}m, ${s}h or ${s}d`);
  let total = 0;
  let lastRank = -1;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) throw new DurationError(`invalid duration '${s}': expected a number and a unit (ms, s, m, h, d or w), like ${DURATION_FORMS}`);
    const [, whole = '0', frac, unitText] = m;
    const unit = unitText as Unit;
    if (UNIT_RANK[unit] <= lastRank) {
      throw new DurationError(
        `invalid duration '${s}': in a compound each unit must be smaller than the one before (w, d, h, m, s, ms), like 1h30m`,
      );
    }
    lastRank = UNIT_RANK[unit];
    total += partMs(s, whole, frac, unit);
    pos = PART.lastIndex;
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration '${s}' is too large`);
  return total;
}

function partMs(s: string, whole: string, frac: string | undefined, unit: Unit): number {
  const scale = UNIT_MS[unit];
  const ms = Number(whole) * scale;
  if (!Number.isSafeInteger(ms)) throw new DurationError(`duration '${s}' is too large`);
  if (frac === undefined) return ms;
  // Exact: frac * scale stays below 2^53 (9 digits times 3.6e6), and must divide evenly.
  const num = Number(frac) * scale;
  const den = 10 ** frac.length;
  if (num % den !== 0) throw new DurationError(`duration '${s}' is not a whole number of milliseconds`);
  return ms + num / den;
}

/** Short text for messages and the CLI, which parseDuration reads back: `250ms`, `1.5s`, `1h30m`, `30d`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return `${String(ms)}ms`;
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const whole = Math.round(ms);
  if (whole < 1000) return `${whole}ms`;
  const d = Math.floor(whole / DAY_MS);
  const h = Math.floor((whole % DAY_MS) / 3_600_000);
  const m = Math.floor((whole % 3_600_000) / 60_000);
  const rest = whole % 60_000;
  let out = '';
  if (d > 0) out += `${d}d`;
  if (h > 0) out += `${h}h`;
  if (m > 0) out += `${m}m`;
  if (rest > 0) {
    const sec = Math.floor(rest / 1000);
    const milli = rest % 1000;
    out += milli === 0 ? `${sec}s` : `${sec}.${String(milli).padStart(3, '0').replace(/0+$/, '')}s`;
  }
  return out;
}
