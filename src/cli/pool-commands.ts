// `meshrun pool set NAME SIZE | ls` (docs/cli.md §19): cluster-wide pools that cap how many tasks
// naming them run at once (docs/dag-file.md §14), through the API (docs/http-api.md §16). Exit
// codes as the rest: 2 for a bad name or size, 3 for no cluster.
import type { PoolView } from '../scheduler/types.js';
import { poolNameProblem, poolSizeProblem } from '../scheduler/placement.js';
import { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';
import { json, table } from './format.js';
import type { ClientOptions } from './job-commands.js';

type Out = (s: string) => void;

export async function poolSetCommand(name: string, sizeText: string, opts: ClientOptions, out: Out, err: Out): Promise<void> {
  const size = /^[0-9]{1,9}$/.test(sizeText) ? Number(sizeText) : Number.NaN;
  const problem = poolNameProblem(name) ?? poolSizeProblem(size);
  if (problem !== null)
    throw new CliError(
      Number.isNaN(size) ? `pool size must be a whole number from 0 to 10,000, got ${JSON.stringify(sizeText)}` : problem,
      EXIT.usage,
    );
  const client = ApiClient.from(opts.api, err);
  const pool = await client.put<PoolView>(`/v1/pools/${encodeURIComponent(name)}`, { size });
  out(opts.json ? json(pool) : `pool ${pool.name}: size ${pool.size}${pool.size === 0 ? ' (paused)' : ''}, ${pool.used} in use\n`);
}

export async function poolListCommand(opts: ClientOptions, out: Out, err: Out): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const { pools } = await client.get<{ pools: PoolView[] }>('/v1/pools');
  out(opts.json ? json({ pools }) : formatPools(pools));
}

export function formatPools(pools: readonly PoolView[]): string {
  if (pools.length === 0) return "no pools (create one with 'meshrun pool set NAME SIZE')\n";
  return table(
    ['name', 'size', 'in use', 'free'],
    pools.map((p) => [p.name, String(p.size), String(p.used), String(Math.max(0, p.size - p.used))]),
  );
}
