// The joining side: ask the bootstrap peers, in turn, to let this node in; follow a leader hint
// when one comes back; retry with backoff until a bounded deadline, then give up with an error
// that names every address tried.
import type { JoinRequest, JoinResponse } from '../net/types.js';
import type { Logger } from './logger.js';
import { sleep } from './wait.js';

export type JoinSuccess = Extract<JoinResponse, { ok: true }>;

export class JoinError extends Error {
  override readonly name = 'JoinError';
  constructor(
    message: string,
    readonly tried: readonly string[],
  ) {
    super(message);
  }
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
      try {
        const r = await o.send(addr, o.request, Math.min(left, o.attemptMs ?? 10_000));
        if (r.ok) {
          o.log.info({ via: addr, leader: r.leader, members: r.members.length }, 'joined the cluster as a learner');
          return r;
        }
        problems.set(addr, r.error);
        if (r.leader) hinted = r.leader.addrs.filter((a) => !hinted.includes(a));
        o.log.info({ via: addr, round, problem: r.error }, 'join refused; will retry');
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        problems.set(addr, why);
        o.log.info({ via: addr, round, problem: why }, 'join attempt failed; will retry');
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
