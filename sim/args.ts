import { at } from '../src/invariant.js';
import { WIRING_PLANTS } from './adversary.js';
import { MAX_SIM_NODES, maxVoters } from './scale.js';
import { PLANTS } from './scheduler-plants.js';
import { DEFAULT_DURATION_MS, DEFAULT_NODES, WORKLOADS, type WorkloadName } from './run.js';

export interface CliOptions {
  readonly seeds: { readonly from: number; readonly to: number };
  /** One seed given with --seed (prints its summary; --trace allowed). */
  readonly single: boolean;
  readonly nodes: number;
  /** Voters at the start (the rest are learners); absent: every node up to 9, else 5 (scale.ts). */
  readonly voters?: number;
  readonly durationMs: number;
  readonly trace: boolean;
  /** Worker threads for a sweep. */
  readonly jobs: number;
  readonly workload: WorkloadName;
  /** A deliberately broken scheduler (scheduler workload) or wiring (any workload), to see the checkers catch it. */
  readonly plant?: string;
}

export const USAGE = `usage: npm run sim -- (--seed N [--trace] | --seeds A-B [--jobs J]) [--nodes N [--voters V]] [--duration MS] [--workload kv|scheduler]
  --seed N        run one seed and print its summary (with --trace: every event)
  --seeds A-B     run seeds A through B and print a summary line
  --nodes N       cluster size, 3 to ${MAX_SIM_NODES} (default ${DEFAULT_NODES})
  --voters V      voters among them at the start, 3 to N (at most 7 beyond 9 nodes; default:
                  every node up to 9 nodes, else 5); the rest are learners
  --duration MS   simulated length of the fault phase in ms (default ${DEFAULT_DURATION_MS})
  --jobs J        worker threads for a sweep (default: 2, or 1 for fewer than 20 seeds)
  --workload W    kv (default): clients of a replicated key-value store; scheduler: random DAGs
                  run by the real scheduler and workers on every node
  --plant NAME    plant a known bug, to see the checkers catch it: in the scheduler's state machine
                  (scheduler workload: ${PLANTS.join(', ')}) or in the
                  node's wiring (any workload: ${Object.keys(WIRING_PLANTS).join(', ')})`;

export class UsageError extends Error {}

/** Parse the CLI flags; throws UsageError with a message naming the problem. */
export function parseArgs(argv: readonly string[]): CliOptions {
  let seed: number | null = null;
  let range: { from: number; to: number } | null = null;
  let nodes = DEFAULT_NODES;
  let voters: number | null = null;
  let durationMs = DEFAULT_DURATION_MS;
  let trace = false;
  let jobs: number | null = null;
  let workload: WorkloadName = 'kv';
  let plant: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = at(argv, i, 'an argument');
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--seed':
        seed = int(flag, value(), 0, 0xffffffff);
        break;
      case '--seeds': {
        const v = value();
        const m = /^(\d+)-(\d+)$/.exec(v);
        if (!m) throw new UsageError(`--seeds wants a range A-B (for example 1-200), got '${v}'`);
        const from = int(flag, at(m, 1, 'the pattern has two groups'), 0, 0xffffffff);
        const to = int(flag, at(m, 2, 'the pattern has two groups'), 0, 0xffffffff);
        if (to < from) throw new UsageError(`--seeds ${v}: the range ends before it starts`);
        range = { from, to };
        break;
      }
      case '--nodes':
        nodes = int(flag, value(), 3, MAX_SIM_NODES);
        break;
      case '--voters':
        voters = int(flag, value(), 3, MAX_SIM_NODES);
        break;
      case '--duration':
        durationMs = int(flag, value(), 100, 3_600_000);
        break;
      case '--jobs':
        jobs = int(flag, value(), 1, 64);
        break;
      case '--trace':
        trace = true;
        break;
      case '--workload': {
        const v = value();
        if (!(WORKLOADS as readonly string[]).includes(v))
          throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')}, got '${v}'`);
        workload = v as WorkloadName;
        break;
      }
      case '--plant': {
        const v = value();
        if (!PLANTS.includes(v) && !(v in WIRING_PLANTS)) {
          throw new UsageError(`--plant must be one of ${[...PLANTS, ...Object.keys(WIRING_PLANTS)].join(', ')}, got '${v}'`);
        }
        plant = v;
        break;
      }
      default:
        throw new UsageError(`unknown flag '${flag}'`);
    }
  }
  if (seed !== null && range !== null) throw new UsageError('give either --seed or --seeds, not both');
  if (seed === null && range === null) throw new UsageError('give --seed N or --seeds A-B');
  if (trace && seed === null) throw new UsageError('--trace needs a single --seed');
  if (plant !== undefined && PLANTS.includes(plant) && workload !== 'scheduler') throw new UsageError('--plant needs --workload scheduler');
  if (voters !== null && voters > maxVoters(nodes))
    throw new UsageError(`--voters ${voters}: a cluster of ${nodes} nodes has at most ${maxVoters(nodes)} voters`);
  const seeds = range ?? { from: seed as number, to: seed as number };
  const count = seeds.to - seeds.from + 1;
  return {
    seeds,
    single: seed !== null,
    nodes,
    ...(voters !== null ? { voters } : {}),
    durationMs,
    trace,
    jobs: Math.min(jobs ?? (count < 20 ? 1 : 2), count),
    workload,
    ...(plant !== undefined ? { plant } : {}),
  };
}

function int(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} wants a whole number, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}
