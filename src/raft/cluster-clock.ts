import { quorumSize } from './progress.js';
import type { NodeId } from './types.js';

/**
 * The leader's source of entry timestamps: cluster time, which one node's bad clock cannot move.
 *
 * Every follower reports its wall clock in its heartbeat responses. The leader stamps an entry
 * with the median of the voters' clocks (its own included), never less than the stamp before it.
 * A report is aged by the leader's own clock since it arrived, clamped to what the ticks that
 * passed allow: precise to the millisecond while the leader's clock runs true, and a jump of the
 * leader's clock moves only its own sample. With 2f+1 voters, f clocks that
 * are wrong by an hour, ahead or behind, cannot pull the median outside the honest ones: leases
 * do not expire early and timers do not freeze. Until a quorum of voters has reported recently,
 * time does not advance (a new leader stamps its first entries with the previous time; a leader
 * that hears no quorum is about to step down anyway). An even count takes the lower median:
 * time running late only makes leases end later, which is the safe side.
 *
 * Pure: ticks and clock readings come in from the Raft core; nothing here reads a clock.
 */
export class ClusterClock {
  private readonly reports = new Map<NodeId, { readonly clock: number; readonly tick: number; readonly ownClock: number }>();
  private ticks = 0;
  private last = 0;

  /**
   * @param tickMs the tick period, which bounds how far a report ages per tick (0: unbounded)
   * @param freshTicks how many ticks a report stays usable
   */
  constructor(
    private readonly tickMs: number,
    private readonly freshTicks: number,
  ) {}

  tick(): void {
    this.ticks++;
  }

  /** `from` said its clock read `clock`; this node's own clock read `ownClock` when it arrived. */
  report(from: NodeId, clock: number, ownClock: number): void {
    this.reports.set(from, { clock, tick: this.ticks, ownClock });
  }

  /** Reports heard under an earlier leadership say nothing about now. */
  forgetReports(): void {
    this.reports.clear();
  }

  /** Stamps never go below `time` (the newest entry in the log when leadership starts). */
  floor(time: number): void {
    if (time > this.last) this.last = time;
  }

  /** The stamp for an entry appended now; stamps never go back. */
  stamp(self: NodeId, ownClock: number, voters: readonly NodeId[]): number {
    const median = this.median(self, ownClock, voters);
    if (median !== null && median > this.last) this.last = median;
    return this.last;
  }

  /** What `stamp` would return now, without moving anything. */
  peek(self: NodeId, ownClock: number, voters: readonly NodeId[]): number {
    return Math.max(this.last, this.median(self, ownClock, voters) ?? 0);
  }

  private median(self: NodeId, ownClock: number, voters: readonly NodeId[]): number | null {
    const samples: number[] = [];
    for (const v of voters) {
      if (v === self) {
        samples.push(ownClock);
        continue;
      }
      const r = this.reports.get(v);
      const ticks = r === undefined ? Infinity : this.ticks - r.tick;
      if (r !== undefined && ticks <= this.freshTicks) samples.push(r.clock + this.aged(ownClock - r.ownClock, ticks));
    }
    if (samples.length === 0 || samples.length < quorumSize(voters.length)) return null;
    samples.sort((a, b) => a - b);
    return samples[Math.floor((samples.length - 1) / 2)] ?? null;
  }

  /** Time passed since a report: the own clock's reading, within what `ticks` ticks allow. */
  private aged(ownElapsed: number, ticks: number): number {
    const lo = this.tickMs * Math.max(0, ticks - 1);
    const hi = this.tickMs > 0 ? this.tickMs * (ticks + 1) : Infinity;
    return Math.min(hi, Math.max(lo, ownElapsed));
  }
}
