// One simulated process's clock (src/worker/types.ts Clock): the node's wall clock (simulated time
// plus its skew, the same clock that stamps the entries it appends as leader) and timers on the
// simulator's agenda. The process can be paused (its timers wait and fire late, in order, when it
// resumes) and killed (nothing it scheduled ever runs again). Cancelling sets a flag.
import type { Clock, Timer } from '../src/worker/types.js';

export interface Agenda {
  /** Simulated time, ms. */
  now(): number;
  after(ms: number, fn: () => void): void;
}

export class ProcessClock implements Clock {
  private paused = false;
  private dead = false;
  private parked: (() => void)[] = [];

  constructor(
    private readonly agenda: Agenda,
    /** Wall clock minus simulated time, ms (setOffset moves it: a clock jump). */
    private offset: number,
  ) {}

  now(): number {
    return this.agenda.now() + this.offset;
  }

  setOffset(offset: number): void {
    this.offset = offset;
  }

  after(ms: number, fn: () => void): Timer {
    let live = true;
    this.agenda.after(Math.max(0, ms), () => {
      if (live) this.run(() => live && fn());
    });
    return {
      cancel: () => {
        live = false;
      },
    };
  }

  /** Run `fn` in this process now; if it is paused, when it resumes; if it is dead, never. */
  run(fn: () => void): void {
    if (this.dead) return;
    if (this.paused) this.parked.push(fn);
    else fn();
  }

  get alive(): boolean {
    return !this.dead;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    if (!this.dead) this.paused = true;
  }

  /** Everything that came due while paused runs now, in the order it came due. */
  resume(): void {
    this.paused = false;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a parked callback may kill or pause the node
    while (this.parked.length > 0 && !this.dead && !this.paused) {
      const fn = this.parked.shift() as () => void;
      fn();
    }
  }

  kill(): void {
    this.dead = true;
    this.parked = [];
  }
}
