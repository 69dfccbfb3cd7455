import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CliOptions } from './args.js';
import { runSimulation, type SimResult, type WorkloadName } from './run.js';

export interface SweepJob {
  readonly seed: number;
  readonly nodes: number;
  readonly voters?: number;
  readonly durationMs: number;
  readonly workload: WorkloadName;
  readonly plant?: string;
}

/**
 * Run every seed of the range, on `o.jobs` worker threads, and report results in seed order
 * (so that a sweep's output does not depend on which worker finished first).
 */
export async function runSweep(o: CliOptions, onResult: (r: SimResult) => void): Promise<void> {
  const jobs: SweepJob[] = [];
  for (let seed = o.seeds.from; seed <= o.seeds.to; seed++) {
    jobs.push({
      seed,
      nodes: o.nodes,
      ...(o.voters !== undefined ? { voters: o.voters } : {}),
      durationMs: o.durationMs,
      workload: o.workload,
      ...(o.plant !== undefined ? { plant: o.plant } : {}),
    });
  }
  const workers = Math.min(o.jobs, availableParallelism(), jobs.length);
  if (workers <= 1) {
    for (const j of jobs) onResult(runSimulation(j));
    return;
  }
  const done = new Map<number, SimResult>();
  let next = 0;
  let reported = 0;
  const flush = (): void => {
    for (;;) {
      const j = jobs[reported];
      const r = j && done.get(j.seed);
      if (!j || !r) return;
      done.delete(j.seed);
      onResult(r);
      reported++;
    }
  };
  await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = startWorker();
          const feed = (): void => {
            const j = jobs[next++];
            if (j) w.postMessage(j);
            else void w.terminate().then(() => resolve());
          };
          w.on('message', (r: SimResult) => {
            done.set(r.seed, r);
            flush();
            feed();
          });
          w.on('error', reject);
          feed();
        }),
    ),
  );
}

/**
 * Under tsx (`npm run sim`) a worker thread does not inherit the TypeScript loader, so it
 * registers tsx itself before importing the worker module; compiled to JavaScript it needs none.
 */
function startWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.js')) return new Worker(new URL('./sweep-worker.js', self));
  const api = import.meta.resolve('tsx/esm/api');
  const target = new URL('./sweep-worker.ts', self).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true });
}
