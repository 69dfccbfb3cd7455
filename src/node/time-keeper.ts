// Scheduler time moves only when entries are applied (docs/architecture.md §6). When something is due
// (a lease, a backoff, a timeout, a job's removal) the leader appends an empty `tick` command, so
// time, and the work that waits on it, moves even when no node proposes anything else.
import type { ProposeResult } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { SchedulerView } from '../scheduler/types.js';

export interface TimeKeeperDeps {
  readonly isLeader: () => boolean;
  readonly view: SchedulerView;
  /** Cluster time as the leader would stamp an entry now (RaftNode.clusterTime: the voters' median clock). */
  readonly now: () => number;
  readonly propose: (data: Uint8Array) => ProposeResult;
  /** How often to look, and the least time between two ticks. */
  readonly periodMs: number;
}

export class TimeKeeper {
  private timer: NodeJS.Timeout | null = null;
  private lastTick = -Infinity;
  private readonly tick = encodeCommand({ type: 'tick' });
  ticks = 0;

  constructor(private readonly deps: TimeKeeperDeps) {}

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.deps.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const { isLeader, view, now, propose, periodMs } = this.deps;
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
