// Weighted rendezvous (highest random weight) hashing: every node ranks the candidate owners of a
// task by the same pure function of (node id, job id, task index, weight), so nodes that see the
// same peers agree on a task's preferred owner without talking to each other (docs/architecture.md §8).
// Only 32-bit integer arithmetic and Math.log are used, so the result is identical on every node.
import type { NodeId } from '../raft/types.js';
import type { TaskRef } from '../scheduler/types.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const GOLDEN = 0x9e3779b1;
const TWO_POW_32 = 4_294_967_296;

/** MurmurHash3's finalizer: every input bit flips each output bit with probability close to 1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * FNV-1a over UTF-16 code units, then finalized: FNV alone spreads ids that differ only in their
 * last character (n1, n2, ...) poorly in the high bits.
 */
export function hashString(s: string, seed: number = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return fmix32(h ^ s.length);
}

/** The last job id hashed: a claim policy run ranks many tasks of the same job in a row. */
let lastJob = '';
let lastJobHash = hashString('');

/** A task's half of the key, computed once per task and combined with each candidate node's hash. */
export function taskHash(ref: TaskRef): number {
  if (ref.job !== lastJob) {
    lastJob = ref.job;
    lastJobHash = hashString(ref.job);
  }
  return fmix32(lastJobHash ^ Math.imul(ref.task + 1, GOLDEN));
}

/**
 * The pair's hash. Two rounds of mixing, with the node hash fed in twice, so that the values for
 * different nodes and the same task are unrelated (a single xor-then-mix keeps a fixed input
 * difference between nodes, which a finalizer only mostly hides).
 */
export function pairHash(nodeHash: number, taskKey: number): number {
  return fmix32((fmix32(nodeHash ^ taskKey) + Math.imul(nodeHash, GOLDEN)) | 0);
}

/** 32-bit hash of (node id, job id, task index). */
export function rendezvousHash(node: NodeId, ref: TaskRef): number {
  return pairHash(hashString(node), taskHash(ref));
}

/**
 * The weighted score -weight / ln(u), u uniform in (0, 1) from the hash: the node with the highest
 * score wins with probability weight / (sum of weights), and removing a node only moves the tasks
 * it owned.
 */
export function weightedScore(hash: number, weight: number): number {
  if (weight <= 0) return 0;
  // (h + 0.5) / 2^32 is never 0 or 1, so the logarithm is finite and negative.
  const u = (hash + 0.5) / TWO_POW_32;
  return -weight / Math.log(u);
}

export interface Candidate {
  readonly node: NodeId;
  readonly weight: number;
}

/**
 * Precomputed node hashes for ranking many tasks over the same candidates. Ties (equal scores)
 * go to the smaller node id, so the winner never depends on the candidates' order.
 */
export class Rendezvous {
  private readonly nodes: readonly { readonly node: NodeId; readonly weight: number; readonly hash: number }[];

  constructor(candidates: Iterable<Candidate>) {
    const list: { node: NodeId; weight: number; hash: number }[] = [];
    for (const c of candidates) if (c.weight > 0) list.push({ node: c.node, weight: c.weight, hash: hashString(c.node) });
    this.nodes = list;
  }

  get size(): number {
    return this.nodes.length;
  }

  /** The preferred owner of `ref` among the candidates that `eligible` accepts, or null if none. */
  owner(ref: TaskRef, eligible: (node: NodeId, weight: number) => boolean = () => true): NodeId | null {
    const key = taskHash(ref);
    let best: NodeId | null = null;
    let bestScore = -1;
    for (const n of this.nodes) {
      if (!eligible(n.node, n.weight)) continue;
      const score = weightedScore(pairHash(n.hash, key), n.weight);
      if (score > bestScore || (score === bestScore && best !== null && n.node < best)) {
        best = n.node;
        bestScore = score;
      }
    }
    return best;
  }
}
