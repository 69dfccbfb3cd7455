// Part of `npm run bench -- sim-scale`: what one node's claim policy (src/worker/claim-policy.ts)
// costs as the cluster grows. A node runs it every time its slots free up or its view changes:
// over a ready queue of 10,000 tasks, with `nodes` live peers of 4 slots (all 4 free on this node),
// the scan bound the worker gives it (64 + 4 x (free + in flight) x (peers + 1)), and the tasks
// not yet old enough to steal (a fresh backlog) or all of them older (a backlog that has waited).
// The same call is made `CALLS` times in a row, as a node does between two changes of its ring.
import { performance } from 'node:perf_hooks';
import type { ReadyTask } from '../src/scheduler/types.js';
import { chooseClaims, OwnerCache } from '../src/worker/claim-policy.js';
import type { PeerLoad } from '../src/worker/types.js';
import type { Row } from './report.js';

const READY = 10_000;
const SLOTS = 4;
const STEAL_AFTER_MS = 2000;
const CALLS = 200;

function readyQueue(): ReadyTask[] {
  return Array.from({ length: READY }, (_, i) => ({ job: 'j1', task: i, priority: 0, readyAt: 0, slots: 1, handler: 'noop' }));
}

/** Microseconds per chooseClaims call, and the tasks it chose on the last call. */
function measure(nodes: number, aged: boolean, cache: OwnerCache | undefined): { readonly us: number; readonly chosen: number } {
  const ready = readyQueue();
  const peers: PeerLoad[] = Array.from({ length: nodes }, (_, i) => ({ node: `n${i + 1}`, slots: SLOTS, free: SLOTS, handlers: ['noop'] }));
  const handlers = new Set(['noop']);
  let chosen = 0;
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) {
    chosen = chooseClaims({
      self: 'n1',
      free: SLOTS,
      slots: SLOTS,
      handlers,
      now: aged ? 10 * STEAL_AFTER_MS : 0,
      ready,
      peers,
      skip: () => false,
      stealAfterMs: STEAL_AFTER_MS,
      maxScan: Math.min(10_000, 64 + 4 * SLOTS * (nodes + 1)),
      ...(cache ? { owners: cache } : {}),
    }).length;
  }
  return { us: ((performance.now() - started) * 1000) / CALLS, chosen };
}

/** One row per cluster size: each case without the owner cache and with it, A B A B (the better of two). */
export function claimScanRows(sizes: readonly number[]): Row[] {
  // Compiled and warm before the first figure.
  measure(30, true, undefined);
  measure(30, true, new OwnerCache());
  return sizes.map((nodes) => {
    const row: Row = { nodes };
    for (const aged of [false, true]) {
      const label = aged ? 'aged' : 'fresh';
      const plain: number[] = [];
      const cached: number[] = [];
      let chosen = 0;
      for (let round = 0; round < 2; round++) {
        plain.push(measure(nodes, aged, undefined).us);
        const c = measure(nodes, aged, new OwnerCache());
        cached.push(c.us);
        chosen = c.chosen;
      }
      row[`${label}: us/call, no cache`] = Math.min(...plain);
      row[`${label}: us/call, cache`] = Math.min(...cached);
      row[`${label}: chosen`] = chosen;
    }
    return row;
  });
}
