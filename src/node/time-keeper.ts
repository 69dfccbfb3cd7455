// Scheduler time moves only when entries are applied (docs/architecture.md §6). When something is due
// (a lease, a backoff, a timeout, a job's removal) the leader appends an empty `tick` command, so
// time, and the work that waits on it, moves even when no node proposes anything else.
import type { ProposeResult } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { SchedulerView } from '../scheduler/types.js';
import type { Clock, Timer } from '../worker/types.js';
import { backgroundClock } from './system-clock.js';

/** What the time keeper uses (js-libp2p's components style). */
export interface TimeKeeperComponents {
  readonly isLeader: () => boolean;
  readonly view: SchedulerView;
  /** Cluster time as the leader would stamp an entry now (RaftDriver.clusterTime: the voters' median clock). */
  readonly now: () => number;
  readonly propose: (data: Uint8Array) => ProposeResult;
  /** Where the period is timed: default backgroundClock; a simulated process's clock in sim/. */
  readonly timers?: Pick<Clock, 'after'>;
}

export interface TimeKeeperInit {
  /** How often to look, and the least time between two ticks. */
  readonly periodMs: number;
}

export class TimeKeeper {
  private timer: Timer | null = null;
  private lastTick = -Infinity;
  private readonly tick = encodeCommand({ type: 'tick' });
  ticks = 0;

  constructor(
    private readonly deps: TimeKeeperComponents,
    private readonly init: TimeKeeperInit,
  ) {}

  start(): void {
    if (this.timer) return;
    const timers = this.deps.timers ?? backgroundClock;
    const loop = (): void => {
      // Re-armed before the check, as an interval timer is.
      this.timer = timers.after(this.init.periodMs, loop);
      this.check();
    };
    this.timer = timers.after(this.init.periodMs, loop);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private check(): void {
    const { isLeader, view, now, propose } = this.deps;
    const { periodMs } = this.init;
    if (!isLeader()) return;
    const due = view.nextDeadline();
    const t = now();
    // Entries applied since the last tick may already have moved time past `due`; the check is cheap.
    if (due === null || due > t || t - this.lastTick < periodMs) return;
    if (propose(this.tick).ok) {
      this.lastTick = t;
      this.ticks++;
    }
  }
}
