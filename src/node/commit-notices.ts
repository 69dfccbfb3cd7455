// A leader's commit notices, held for one Ready cycle (docs/architecture.md §5, "the driver").
//
// When an acknowledgement moves the commit index, the core tells every follower at once with an
// append that carries no entries, only the new commit index (as etcd/raft does). Under a steady
// stream of proposals the very next Ready sends each follower an append with new entries anyway,
// and that append carries the same commit index or a later one: the notice was a message, a
// socket write, and an acknowledgement from the follower for nothing. So the driver holds the
// notices of one cycle and lets the next cycle decide: a notice whose follower gets an append in
// that cycle is dropped (the append says it all); any other leaves with that cycle's messages, or
// at the next turn of the event loop when no cycle is due. A follower learns the commit index one
// event-loop turn later at most; Raft's safety never depended on the notice (it may be lost).
import type { Message, NodeId } from '../raft/types.js';

/** True for the message this module holds: an append without entries (a commit index, or a probe). */
export function isCommitNotice(m: Message): boolean {
  return m.type === 'app' && m.entries.length === 0;
}

export class CommitNotices {
  private held = new Map<NodeId, Message>();
  /** Notices a later append made redundant (the node's metrics may show it; tests read it). */
  superseded = 0;

  get size(): number {
    return this.held.size;
  }

  /**
   * One cycle's messages to send before its write: the notices held from the previous cycle join
   * them unless an append to the same follower is among them; this cycle's own notices are held
   * (a notice to a follower that gets an append now is dropped at once). Returns what to send.
   */
  merge(early: readonly Message[]): Message[] {
    const appended = new Set<NodeId>();
    for (const m of early) if (m.type === 'app' && m.entries.length > 0) appended.add(m.to);
    const out: Message[] = [];
    for (const [to, m] of this.held) {
      if (appended.has(to)) this.superseded++;
      else out.push(m);
    }
    this.held = new Map();
    for (const m of early) {
      if (!isCommitNotice(m)) {
        out.push(m);
      } else if (appended.has(m.to)) {
        this.superseded++;
      } else {
        // A later notice to the same follower replaces an earlier one (its commit is not lower).
        this.held.set(m.to, m);
      }
    }
    return out;
  }

  /** Everything held, to send now (no cycle is coming to take it). */
  take(): Message[] {
    const out = [...this.held.values()];
    this.held = new Map();
    return out;
  }

  clear(): void {
    this.held = new Map();
  }
}
