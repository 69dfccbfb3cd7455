// What an operator needs in a node's log without turning debug on (info level, one line each, the
// ids and the reason): leader changes, members connected and lost, task attempts lost (a lease
// run out, a holder restarted, a timeout) and what becomes of them, and commands refused as
// forgeries. Everything here reads what the node already computes; nothing decides.
import type { NodeId, Ready } from '../raft/types.js';
import type { Effect } from '../scheduler/types.js';
import type { Logger } from './logger.js';

/** Reasons a running attempt ends without its own result being the cause. */
const LOST = new Set(['lease expired', 'holder restarted', 'timeout']);

export class EventLog {
  private leader: NodeId | null = null;
  private term = 0;

  constructor(private readonly log: Logger) {}

  /** After each Ready: a line when the leader this node knows changes (or is lost). */
  onReady(rd: Pick<Ready, 'soft' | 'hardState'>): void {
    if (rd.hardState) this.term = rd.hardState.term;
    const leader = rd.soft.leader;
    if (leader === this.leader) return;
    const was = this.leader;
    this.leader = leader;
    if (leader === null) this.log.info({ was, term: this.term }, 'no leader known: an election is under way');
    else this.log.info({ leader, was, term: this.term }, 'leader changed');
  }

  onPeer(peer: NodeId, connected: boolean): void {
    this.log.info({ peer }, connected ? 'member connected' : 'member connection lost');
  }

  /** A scheduler effect worth a line on every replica: an attempt lost and its outcome, a forged command refused. */
  onEffect(e: Effect): void {
    if (e.type === 'task' && e.from === 'running' && e.reason !== null && LOST.has(e.reason)) {
      const next = e.to === 'ready' || e.to === 'waiting' ? 'it runs again' : `it is ${e.to}`;
      this.log.info(
        { job: e.job, task: e.name, node: e.node, attempt: e.attempt, reason: e.reason },
        `task attempt lost (${e.reason}): ${next}`,
      );
    } else if (e.type === 'ignored' && e.reason.startsWith('proposed by ')) {
      this.log.warn({ command: e.command, reason: e.reason }, 'refused a command a member sent for another node');
    }
  }
}
