// The nemesis of the partition tests and the failover benchmark: it cuts real connections between
// `meshrun node --test-partitions` processes through their test-only endpoints (see
// src/net/partition-gate.ts). Each node gets its own rules: a two-way cut is installed on both
// sides, so neither side can reconnect whoever dials.
import type { PartitionRules } from '../../src/net/partition-gate.js';
import type { NodeProcess } from './spawn.js';

/** The flag every node of a partitioned cluster is started with. */
export const PARTITION_FLAG = '--test-partitions';

async function post(node: NodeProcess, path: string, body: unknown): Promise<PartitionRules> {
  const res = await fetch(`${node.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await res.json()) as PartitionRules & { error?: string };
  if (res.status !== 200) throw new Error(`${node.name}: POST ${path} answered ${res.status}: ${answer.error ?? JSON.stringify(answer)}`);
  return answer;
}

export function setRules(node: NodeProcess, rules: Partial<PartitionRules>): Promise<PartitionRules> {
  return post(node, '/v1/test/partition', rules);
}

/**
 * Cuts `side` off from the rest of `all`, both ways: every node on one side blocks every node on
 * the other. Resolves once every node has its rules (and has aborted its connections across).
 */
export async function isolate(side: readonly NodeProcess[], all: readonly NodeProcess[]): Promise<void> {
  const rest = all.filter((n) => !side.includes(n));
  await Promise.all([
    ...side.map((n) => setRules(n, { block: rest.map((r) => r.id) })),
    ...rest.map((n) => setRules(n, { block: side.map((s) => s.id) })),
  ]);
}

/** Cuts the link from `from` to `to` only: `to` discards the Raft frames `from` sends it. */
export async function cutOneWay(from: NodeProcess, to: NodeProcess): Promise<void> {
  await setRules(to, { dropFrom: [from.id] });
}

/** Lifts every rule on every node. */
export async function healAll(all: readonly NodeProcess[]): Promise<void> {
  await Promise.all(all.map((n) => post(n, '/v1/test/heal', {})));
}
