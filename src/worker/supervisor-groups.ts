// The process group of each running `run` task: recorded with the supervisor (dies with the node)
// and in the data directory's journal (killed after a restart) while it may have members, and
// stopped with SIGTERM, then SIGKILL after a grace period.
import { performance } from 'node:perf_hooks';
import { GroupLedger, procStartTime, signalGroup } from './leftovers.js';
import type { Supervisor } from './supervisor.js';

export class GuardedGroups {
  private readonly groups = new Set<TaskGroup>();

  constructor(
    private readonly supervisor: Supervisor,
    private readonly ledger: GroupLedger,
    private readonly graceMs: number,
  ) {}

  /** Takes charge of the group a task's shell leads (spawned detached: its pid is its group id). */
  adopt(pgid: number): TaskGroup {
    // Read now, while the leader cannot have been reaped yet (Node reaps children on a later tick).
    this.ledger.add(pgid, procStartTime(pgid) ?? '?');
    this.supervisor.track(pgid);
    const group = new TaskGroup(pgid, this.graceMs, () => {
      this.groups.delete(group);
      this.ledger.remove(pgid);
      this.supervisor.untrack(pgid);
    });
    this.groups.add(group);
    return group;
  }

  /** Groups that may still have members. */
  get size(): number {
    return this.groups.size;
  }

  /**
   * Forgets pending SIGKILLs (the node is closing): the groups stay with the supervisor, which
   * kills them when its pipe closes, and in the journal for the next start.
   */
  abandon(): void {
    for (const group of this.groups) group.abandon();
    this.groups.clear();
  }
}

export class TaskGroup {
  private killTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the pending SIGKILL is due. */
  private killAt = Infinity;
  private terminating = false;
  private released = false;

  constructor(
    readonly pgid: number,
    private readonly graceMs: number,
    private readonly onRelease: () => void,
  ) {}

  /**
   * SIGTERM to the whole group now, SIGKILL to what is left after the grace period (`graceMs` may
   * shorten the executor's). Idempotent, except that a shorter grace brings a pending SIGKILL forward.
   */
  terminate(graceMs?: number): void {
    if (this.released) return;
    const grace = Math.max(0, Math.min(graceMs ?? this.graceMs, this.graceMs));
    if (this.terminating) {
      if (performance.now() + grace < this.killAt) this.armKill(grace);
      return;
    }
    this.terminating = true;
    if (!this.signal('SIGTERM')) {
      this.release();
      return;
    }
    this.armKill(grace);
  }

  private armKill(grace: number): void {
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.killAt = performance.now() + grace;
    this.killTimer = setTimeout(() => {
      this.killTimer = null;
      this.signal('SIGKILL');
      // After SIGKILL the group is gone for all practical purposes (a zombie left to a parent that
      // never reaps it still counts as a member, so waiting for "empty" could wait forever).
      this.release();
    }, grace);
  }

  /**
   * The leader exited and its output is drained: if nothing is left of the group, stop watching it
   * now; otherwise the kill sequence already under way releases it.
   */
  settle(): void {
    if (this.released) return;
    if (!this.signal(0)) this.release();
  }

  abandon(): void {
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.killTimer = null;
    this.released = true;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.killTimer = null;
    this.onRelease();
  }

  /** False when the group has no member left. EPERM (a member we may not signal) counts as "still there". */
  private signal(sig: NodeJS.Signals | 0): boolean {
    try {
      return signalGroup(this.pgid, sig);
    } catch {
      return true;
    }
  }
}
