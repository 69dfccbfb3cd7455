// The joining side: ask the bootstrap peers, in turn, to let this node in; a member that is not
// the leader answers with the leader's addresses, and this node asks the leader itself next
// (members no longer forward on a joiner's behalf). Retry with backoff until a bounded deadline,
// then give up with an error that names every address tried. A refusal that retrying cannot cure
// (the data directory belongs to another cluster) ends the attempts at once.
import { errorMessage } from '../errors.js';
import type { JoinRequest, JoinResponse } from '../net/types.js';
import type { Logger } from './logger.js';
import { sleep } from './wait.js';

export type JoinSuccess = Extract<JoinResponse, { ok: true }>;

export class JoinError extends Error {
  override readonly name: string = 'JoinError';
  constructor(
    message: string,
    readonly tried: readonly string[],
  ) {
    super(message);
  }
}

/** The cluster said this node's data directory belongs to another cluster: starting again with it cannot work. */
export class WrongClusterError extends JoinError {
  override readonly name = 'WrongClusterError';
}

/**
 * The members a join answer lists (the leader included): the peers a node whose own Raft
 * configuration is still empty may accept Raft messages from until its log tells it the rest.
 */
export function introducersOf(answer: JoinSuccess): string[] {
  return [...new Set([answer.leader, ...answer.members.map((m) => m.id)])];
}

export interface JoinClientOptions {
  readonly bootstrap: readonly string[];
  readonly request: JoinRequest;
  readonly send: (addr: string, req: JoinRequest, timeoutMs: number) => Promise<JoinResponse>;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Bound on one attempt. */
  readonly attemptMs?: number;
  /** Stops the attempts early (the node is being stopped). */
  readonly signal?: AbortSignal;
}

export async function joinCluster(o: JoinClientOptions): Promise<JoinSuccess> {
  const deadline = Date.now() + o.timeoutMs;
  const tried = new Set<string>();
  const problems = new Map<string, string>();
  /** `${addr}\n${problem}` of every failure logged at info: each is said once, however they alternate. */
  const said = new Set<string>();
  let backoff = 200;
  let hinted: string[] = [];
  for (let round = 1; ; round++) {
    // A leader hint goes first; the bootstrap list is always tried again after it.
    const targets = [...new Set([...hinted, ...o.bootstrap])];
    hinted = [];
    for (const addr of targets) {
      if (o.signal?.aborted) throw new JoinError('join abandoned: the node is stopping', [...tried]);
      const left = deadline - Date.now();
      if (left <= 0) break;
      tried.add(addr);
      let r: JoinResponse;
      try {
        r = await o.send(addr, o.request, Math.min(left, o.attemptMs ?? 10_000));
      } catch (err) {
        const why = errorMessage(err);
        const kind = (err as { kind?: unknown }).kind;
        // A timeout cut short by the deadline says less than the refusal before it: keep that one for the final message.
        if (kind !== 'timeout' || !problems.has(addr)) problems.set(addr, why);
        // Said once per address and problem; the same failure again goes to the debug log.
        const key = `${addr}\n${why}`;
        const level = said.has(key) ? 'debug' : 'info';
        said.add(key);
        o.log[level]({ via: addr, round, problem: why }, level === 'info' ? 'join attempt failed; will retry (quietly while it fails the same way)' : 'join attempt failed again');
        continue;
      }
      if (r.ok) {
        o.log.info({ via: addr, leader: r.leader, members: r.members.length, cluster: r.cluster }, 'joined the cluster as a learner');
        return r;
      }
      if (r.reason === 'wrong-cluster') throw new WrongClusterError(r.error, [...tried]);
      problems.set(addr, r.error);
      o.log.info({ via: addr, round, problem: r.error, leader: r.leader?.id }, 'join refused; will retry');
      if (r.leader && r.leader.addrs.length > 0) {
        // Ask the leader next rather than the rest of the list: it is the only one that can admit us.
        hinted = [...r.leader.addrs];
        break;
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const detail = [...problems].map(([a, p]) => `${a}: ${p}`).join('; ');
      throw new JoinError(`could not join the cluster within ${Math.round(o.timeoutMs / 1000)} s; tried ${[...tried].join(', ')}${detail ? ` (${detail})` : ''}`, [...tried]);
    }
    await sleep(Math.min(backoff, left));
    backoff = Math.min(backoff * 2, 2000);
  }
}
