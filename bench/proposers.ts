import { performance } from 'node:perf_hooks';
import { ProposalError } from '../src/node/proposal.js';
import { SeededRng } from '../src/raft/rng.js';
import { percentile, type Row } from './report.js';

/** A 256-byte command with fixed, seeded content. */
export function payload(bytes = 256): Uint8Array {
  const rng = new SeededRng(42);
  return new Uint8Array(bytes).map(() => rng.int(256));
}

/**
 * `proposers` loops call `propose` back to back until `total` proposals have been made; each
 * resolves when its entry is committed and applied on the proposing node. Refusals (a leader
 * change) are counted by reason, not timed.
 */
export async function runProposers(propose: () => Promise<unknown>, proposers: number, total: number): Promise<Row> {
  const latencies: number[] = [];
  const reasons = new Map<string, number>();
  let started = 0;
  const t0 = performance.now();
  const loop = async () => {
    while (started < total) {
      started++;
      const t = performance.now();
      try {
        await propose();
        latencies.push(performance.now() - t);
      } catch (err) {
        if (!(err instanceof ProposalError)) throw err;
        reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: proposers }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const refused = [...reasons.values()].reduce((a, b) => a + b, 0);
  return {
    proposers,
    committed: latencies.length,
    'commits/s': latencies.length / seconds,
    'p50 ms': percentile(latencies, 50),
    'p99 ms': percentile(latencies, 99),
    refused,
    ...(reasons.size > 0 ? { why: [...reasons].map(([r, n]) => `${r}:${n}`).join(' ') } : {}),
  };
}
