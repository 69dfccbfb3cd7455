import { at } from '../src/invariant.js';
import { hashString } from './hash.js';

/** A trace line, or a function producing it: most lines are never read, so they are formatted lazily. */
export type LineSource = string | (() => string);

export interface TraceOptions {
  /** How many recent lines to keep for a violation report. */
  readonly capacity: number;
  /** Receives every line as it happens (the CLI's --trace). */
  readonly sink?: ((line: string) => void) | undefined;
  /** Hash every line (the determinism check); costs the formatting of every line. */
  readonly hashAll?: boolean | undefined;
}

/**
 * The run's event log: a ring buffer of the most recent lines, plus, when asked, a streaming sink
 * and a running hash of the whole trace.
 */
export class Trace {
  private readonly times: number[];
  private readonly lines: LineSource[];
  private next = 0;
  private count = 0;
  private readonly eager: boolean;
  /** Running hash of every formatted line; only meaningful with `hashAll`. */
  hash = 0x811c9dc5;
  total = 0;

  constructor(private readonly opts: TraceOptions) {
    this.times = new Array<number>(opts.capacity).fill(0);
    this.lines = new Array<LineSource>(opts.capacity).fill('');
    this.eager = opts.sink !== undefined || opts.hashAll === true;
  }

  /**
   * `routine` lines (heartbeats and their answers, delivered or dropped) go to the sink and the
   * hash but not to the ring buffer: they would crowd the few lines a violation report shows.
   */
  add(time: number, line: LineSource, routine = false): void {
    this.total++;
    if (this.eager) {
      const text = format(time, typeof line === 'string' ? line : line());
      if (this.opts.hashAll) this.hash = hashString(text + '\n', this.hash);
      this.opts.sink?.(text);
      line = text.slice(TIME_WIDTH + 1);
    }
    if (this.opts.capacity === 0 || routine) return;
    this.times[this.next] = time;
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.opts.capacity;
    if (this.count < this.opts.capacity) this.count++;
  }

  /** The most recent lines, oldest first. */
  recent(): string[] {
    const out: string[] = [];
    const cap = this.opts.capacity;
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - this.count + k + cap) % cap;
      const l = at(this.lines, i, 'a line');
      out.push(format(at(this.times, i, 'one time per line'), typeof l === 'string' ? l : l()));
    }
    return out;
  }
}

const TIME_WIDTH = 9;

function format(time: number, text: string): string {
  return `${`${time}ms`.padStart(TIME_WIDTH)} ${text}`;
}
