// What a proposal is answered with: the entry's index and what the state machine decided when it
// applied it (docs/architecture.md §15), or a ProposalError saying why no answer will come.
import type { ProposeRefusal } from '../raft/types.js';

/**
 * Names one proposal of one node's process: `<incarnation tag>.<counter>`. The tag is drawn at every
 * start (random in a node, per incarnation in the simulator), so ids neither collide across nodes
 * nor with an earlier run's entries still in the log; the entry's proposer stamp (docs/architecture.md
 * §12) keeps another member from answering this node's waits with an entry of its own.
 */
export type RequestId = string;

/** The longest request id an entry may carry (envelope.proto's `request`): a tag and a counter. */
export const MAX_REQUEST_ID_BYTES = 64;

/** The state machine's answer to one applied entry: the request it carries (if any) and what was decided. */
export interface Decision<R> {
  readonly request: RequestId | null;
  readonly result: R;
}

/** A proposal's answer: its entry was applied here at `index`, and the state machine decided `result`. */
export interface Committed<R> {
  readonly index: number;
  readonly result: R;
}

/** The callback form of a promise, for callers that run no microtasks (the simulator). */
export interface Reply<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** Why a proposal ends without an answer, beyond the core's immediate refusals (ProposeRefusal). */
const ENDINGS = {
  lost: 'proposal lost to a leader change (another entry took its place)',
  stopped: 'proposal ended: the node is stopping',
  timeout: 'proposal not applied on this node in time',
  busy: 'too many proposals are waiting on this node; try again shortly',
  unknown: 'a snapshot from the leader replaced the state before the proposal was seen applied: its outcome is only in the state',
} as const;

export type ProposalEnding = keyof typeof ENDINGS;

export class ProposalError extends Error {
  override readonly name = 'ProposalError';
  constructor(readonly reason: ProposeRefusal | ProposalEnding) {
    super(reason in ENDINGS ? ENDINGS[reason as ProposalEnding] : `proposal refused: ${reason}`);
  }
}
