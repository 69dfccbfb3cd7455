// Scheduler time moves only when entries are applied (docs/architecture.md §6). When something is due
// (a lease, a backoff, a timeout, a job's removal) the leader appends an empty `tick` command, so
// time, and the work that waits on it, moves even when no node proposes anything else. On every
// node, leader or not, it also runs the schedule keeper, which proposes the schedule ticks that are
// due (docs/schedules.md §6) over the same ports.
import type { ProposeResult } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { SchedulerView } from '../scheduler/types.js';
import type { Clock, Timer } from '../worker/types.js';
import { ScheduleKeeper } from './schedule-keeper.js';
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
  /** This node's clock, which tells the schedule keeper a tick is due: default backgroundClock's; the process clock in sim/. */
  readonly localNow?: () => number;
}

/** A proposed schedule tick still undecided after this long is proposed again (docs/schedules.md §6). */
export const SCHEDULE_RETRY_MS = 100;
/** A follower proposes a due tick this long after the leader would (docs/schedules.md §6). */
export const SCHEDULE_FOLLOWER_DELAY_MS = 50;

export interface TimeKeeperInit {
  /** How often to look, and the least time between two ticks; also the schedule keeper's longest sleep. */
  readonly periodMs: number;
}

export class TimeKeeper {
  private timer: Timer | null = null;
  private lastTick = -Infinity;
  private readonly tick = encodeCommand({ type: 'tick' });
  ticks = 0;
  readonly schedules: ScheduleKeeper;

  constructor(
    private readonly deps: TimeKeeperComponents,
    private readonly init: TimeKeeperInit,
  ) {
    const timers = deps.timers ?? backgroundClock;
    this.schedules = new ScheduleKeeper(
      {
        view: deps.view,
        propose: deps.propose,
        clock: { after: (ms, fn) => timers.after(ms, fn), now: deps.localNow ?? (() => backgroundClock.now()) },
        isLeader: deps.isLeader,
      },
      { periodMs: init.periodMs, retryMs: SCHEDULE_RETRY_MS, followerDelayMs: SCHEDULE_FOLLOWER_DELAY_MS },
    );
  }

  start(): void {
    if (this.timer) return;
    this.schedules.start();
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
    this.schedules.stop();
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
