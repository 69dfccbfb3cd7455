// Every node proposes the schedule ticks it sees due (docs/schedules.md §6): a `fire` command naming
// each (schedule, tick) whose time has come by this node's clock. No node is "the cron node" and
// the proposals need no coordination: the log orders them and the state machine decides each tick
// once, from the cluster time of the entry that applies it (src/scheduler/schedules.ts), so
// duplicates from other nodes, or from this one retrying, change nothing.
//
// It wakes at the earliest next tick (so the fire lag is a timer's lateness plus one commit), and
// at least every `periodMs` to notice schedules that were created or changed meanwhile. A tick
// still undecided `retryMs` after it was proposed is proposed again: the proposal may have been
// lost with a leader, or applied at a cluster time a little before the tick (a clock behind this one).
import type { ProposeResult } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { FireItem } from '../scheduler/schedule-types.js';
import type { SchedulerView } from '../scheduler/types.js';
import type { Clock, Timer } from '../worker/types.js';

/** What the schedule keeper uses (js-libp2p's components style, as the time keeper that runs it). */
export interface ScheduleKeeperComponents {
  readonly view: SchedulerView;
  readonly propose: (data: Uint8Array) => ProposeResult;
  /**
   * This node's clock and timers. Its reading decides only when to propose; the entry's cluster
   * time decides whether the tick is due, so a clock ahead of the cluster's costs a retry.
   */
  readonly clock: Pick<Clock, 'after' | 'now'>;
  /**
   * Whether this node leads. Others propose a due tick `followerDelayMs` after it, so that on a
   * healthy cluster the leader's proposal (which needs no forwarding) usually decides it alone and
   * the others find it decided; without a leader's proposal they propose it themselves.
   */
  readonly isLeader?: () => boolean;
}

export interface ScheduleKeeperInit {
  /** The longest sleep: how soon a new or changed schedule is noticed. */
  readonly periodMs: number;
  /** How long a proposed tick may stay undecided before it is proposed again. */
  readonly retryMs: number;
  /** How long after the leader a follower proposes a due tick (see `isLeader`). */
  readonly followerDelayMs?: number;
}

/** Ticks per fire command: well inside one entry (a name is at most 128 bytes). */
const MAX_ITEMS_PER_FIRE = 2000;

export class ScheduleKeeper {
  private timer: Timer | null = null;
  /** The tick last proposed per schedule, and when. */
  private readonly proposed = new Map<string, { tick: number; at: number }>();
  /** Fire commands proposed (for tests and metrics). */
  fires = 0;

  constructor(
    private readonly deps: ScheduleKeeperComponents,
    private readonly init: ScheduleKeeperInit,
  ) {}

  start(): void {
    if (this.timer === null) this.arm(0);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer = this.deps.clock.after(Math.max(0, ms), () => this.check());
  }

  private check(): void {
    const { view, clock } = this.deps;
    const { retryMs, periodMs } = this.init;
    const t = clock.now();
    const delay = this.deps.isLeader?.() === false ? (this.init.followerDelayMs ?? 0) : 0;
    const due: FireItem[] = [];
    let wake = t + periodMs;
    const seen = new Set<string>();
    for (const item of view.scheduleTicks()) {
      seen.add(item.schedule);
      if (item.tick + delay > t) {
        wake = Math.min(wake, item.tick + delay);
        continue;
      }
      const last = this.proposed.get(item.schedule);
      if (last !== undefined && last.tick === item.tick && t - last.at < retryMs) {
        wake = Math.min(wake, last.at + retryMs);
        continue;
      }
      due.push(item);
    }
    for (const name of this.proposed.keys()) if (!seen.has(name)) this.proposed.delete(name);
    for (let k = 0; k < due.length; k += MAX_ITEMS_PER_FIRE) {
      const items = due.slice(k, k + MAX_ITEMS_PER_FIRE);
      if (!this.deps.propose(encodeCommand({ type: 'fire', items })).ok) {
        // No leader to take it: look again soon rather than after a whole period.
        wake = Math.min(wake, t + retryMs);
        continue;
      }
      this.fires++;
      for (const it of items) this.proposed.set(it.schedule, { tick: it.tick, at: t });
      wake = Math.min(wake, t + retryMs);
    }
    this.arm(wake - t);
  }
}
