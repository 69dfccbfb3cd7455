// The joining side: ask the bootstrap peers, in turn, to let this node in; a member that is not
// the leader answers with the leader's addresses, and this node asks the leader itself next, then
// the rest of the list (members no longer forward on a joiner's behalf). Retry with backoff until a bounded deadline,
// then give up with an error that names every address tried. A refusal that retrying cannot cure
// (the data directory belongs to another cluster) ends the attempts at once. The attempts run on an
// injected clock and answer through callbacks, so the simulator runs them unchanged
// (docs/architecture.md §2); joinCluster is the promise a node awaits.
import { errorMessage } from '../errors.js';
import type { JoinRequest, JoinResponse } from '../net/types.js';
import type { Clock } from '../worker/types.js';
import type { Reply } from './proposal.js';
import type { Logger } from './logger.js';
import { systemClock } from './system-clock.js';

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

/** JoinClientOptions for requestAdmission: a send that answers through `reply`, and the clock its deadline and backoff run on. */
export interface JoinAttempts extends Omit<JoinClientOptions, 'send'> {
  /** One attempt at `addr`; rejects with an Error (one with `kind: 'timeout'` for a timeout) when no answer came. */
  readonly send: (addr: string, req: JoinRequest, timeoutMs: number, reply: Reply<JoinResponse>) => void;
  readonly clock: Pick<Clock, 'now' | 'after'>;
}

export function joinCluster(o: JoinClientOptions): Promise<JoinSuccess> {
  const send: JoinAttempts['send'] = (addr, req, timeoutMs, reply) => {
    o.send(addr, req, timeoutMs).then(
      (r) => reply.resolve(r),
      (err: unknown) => reply.reject(err instanceof Error ? err : new Error(errorMessage(err))),
    );
  };
  return new Promise((resolve, reject) => requestAdmission({ ...o, send, clock: systemClock }, { resolve, reject }));
}

/** joinCluster answering through `reply`: the attempts, rounds and backoff of one join. */
export function requestAdmission(o: JoinAttempts, reply: Reply<JoinSuccess>): void {
  const deadline = o.clock.now() + o.timeoutMs;
  const tried = new Set<string>();
  const problems = new Map<string, string>();
  /** `${addr}\n${problem}` of every failure logged at info: each is said once, however they alternate. */
  const said = new Set<string>();
  let backoff = 200;
  let hinted: string[] = [];
  let round = 0;

  const startRound = (): void => {
    round++;
    // A leader hint goes first; the bootstrap list is always tried again after it.
    const targets = [...new Set([...hinted, ...o.bootstrap])];
    hinted = [];
    attempt(targets, 0);
  };

  const attempt = (targets: readonly string[], i: number): void => {
    const addr = targets[i];
    if (addr === undefined) return endRound();
    if (o.signal?.aborted) return reply.reject(new JoinError('join abandoned: the node is stopping', [...tried]));
    const left = deadline - o.clock.now();
    if (left <= 0) return endRound();
    tried.add(addr);
    // Whole milliseconds: a monotonic clock reads fractions, and timers downstream want integers.
    o.send(addr, o.request, Math.ceil(Math.min(left, o.attemptMs ?? 10_000)), {
      reject: (err) => {
        failed(addr, err);
        attempt(targets, i + 1);
      },
      resolve: (r) => {
        if (r.ok) {
          o.log.info({ via: addr, leader: r.leader, members: r.members.length, cluster: r.cluster }, 'joined the cluster as a learner');
          return reply.resolve(r);
        }
        if (r.reason === 'wrong-cluster') return reply.reject(new WrongClusterError(r.error, [...tried]));
        problems.set(addr, r.error);
        o.log.info({ via: addr, round, problem: r.error, leader: r.leader?.id }, 'join refused; will retry');
        // A hint naming this node is a member's stale view from before this node lost its store
        // (it led then): following it would only ask itself, and never reach the rest of the list.
        if (r.leader && r.leader.id !== o.request.id && r.leader.addrs.length > 0) {
          // Ask the leader next: it is the only one that can admit us. Then the rest of the list, not
          // a new round: a hint may be stale (a member cut off, or removed, names an old leader), and
          // ending the round on it would never reach the members that know better.
          hinted = [...r.leader.addrs];
          const asked = new Set(targets.slice(0, i + 1));
          const next = [...hinted.filter((a) => !asked.has(a)), ...targets.slice(i + 1).filter((a) => !hinted.includes(a))];
          return attempt([...targets.slice(0, i + 1), ...next], i + 1);
        }
        attempt(targets, i + 1);
      },
    });
  };

  const failed = (addr: string, err: Error): void => {
    const why = errorMessage(err);
    const kind = (err as { kind?: unknown }).kind;
    // A timeout cut short by the deadline says less than the refusal before it: keep that one for the final message.
    if (kind !== 'timeout' || !problems.has(addr)) problems.set(addr, why);
    // Said once per address and problem; the same failure again goes to the debug log.
    const key = `${addr}\n${why}`;
    const level = said.has(key) ? 'debug' : 'info';
    said.add(key);
    o.log[level](
      { via: addr, round, problem: why },
      level === 'info' ? 'join attempt failed; will retry (quietly while it fails the same way)' : 'join attempt failed again',
    );
  };

  const endRound = (): void => {
    const left = deadline - o.clock.now();
    if (left <= 0) {
      const detail = [...problems].map(([a, p]) => `${a}: ${p}`).join('; ');
      return reply.reject(
        new JoinError(
          `could not join the cluster within ${Math.round(o.timeoutMs / 1000)} s; tried ${[...tried].join(', ')}${detail ? ` (${detail})` : ''}`,
          [...tried],
        ),
      );
    }
    o.clock.after(Math.min(backoff, left), startRound);
    backoff = Math.min(backoff * 2, 2000);
  };

  startRound();
}
