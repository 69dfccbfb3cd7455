// A member's address announcement through the join protocol (maintenance.ts calls it when no
// leader is heard and its replicated address is stale). Members answer only for the node that
// asks and do not forward, so the announcement goes to the leader itself: each reachable member
// either is the leader or names it, and the named leader is asked next.
import { errorMessage } from '../errors.js';
import type { JoinRequest, JoinResponse } from '../net/types.js';
import type { JoinSuccess } from './join-client.js';
import type { Logger } from './logger.js';

/** Bound on the members asked in one announcement, however many leaders they name. */
const MAX_ASKED = 32;

export interface AnnounceOptions {
  /** Where members may be dialled (each ending in /p2p/<id>), in the order to try them. */
  readonly targets: readonly string[];
  /** This node's own request: its id, its current addresses, its cluster id, emptyStore false. */
  readonly request: JoinRequest;
  readonly send: (addr: string, req: JoinRequest, timeoutMs: number) => Promise<JoinResponse>;
  /** Bound on each attempt. */
  readonly attemptMs: number;
  readonly log: Logger;
}

/**
 * Asks the targets in turn, and any leader they name, until one admits the request. Resolves with
 * that answer, or null when none did (each problem logged at debug, a wrong cluster at error).
 */
export async function announceThroughMembers(o: AnnounceOptions): Promise<JoinSuccess | null> {
  const queue = [...new Set(o.targets)];
  const asked = new Set<string>();
  while (queue.length > 0 && asked.size < MAX_ASKED) {
    const addr = queue.shift() as string;
    if (asked.has(addr)) continue;
    asked.add(addr);
    const r = await o.send(addr, o.request, o.attemptMs).catch((err: unknown) => {
      o.log.debug({ via: addr, err: errorMessage(err) }, 'address announcement: member unreachable');
      return null;
    });
    if (r === null) continue;
    if (r.ok) return r;
    if (r.reason === 'wrong-cluster') {
      o.log.error({ via: addr, problem: r.error }, 'address announcement refused: this node is talking to another cluster');
      return null;
    }
    o.log.debug({ via: addr, problem: r.error, leader: r.leader?.id }, 'address announcement refused');
    // The leader named is the one that can take it: ask it before the remaining members.
    if (r.leader) queue.unshift(...r.leader.addrs.filter((a) => !asked.has(a)));
  }
  return null;
}
