// The two things `npm run sim` and `meshrun sim --seeds` do: run one seed and print its summary,
// or sweep a range of seeds and print one line per violation and a total.
import { performance } from 'node:perf_hooks';
import type { CliOptions } from './args.js';
import { hex } from './hash.js';
import { formatFailure } from './report.js';
import { runSimulation } from './run.js';
import { runSweep } from './sweep.js';

export interface Output {
  write(s: string): unknown;
}

export function runOne(o: CliOptions, out: Output, err: Output): number {
  const started = performance.now();
  const r = runSimulation({
    seed: o.seeds.from,
    nodes: o.nodes,
    ...(o.voters !== undefined ? { voters: o.voters } : {}),
    durationMs: o.durationMs,
    workload: o.workload,
    ...(o.plant !== undefined ? { plant: o.plant } : {}),
    traceSink: o.trace ? (line) => out.write(`${line}\n`) : undefined,
    hashTrace: true,
  });
  for (const l of r.summary) out.write(`${l}\n`);
  out.write(`trace hash ${hex(r.traceHash)}\n`);
  if (!r.ok) out.write(`\n${formatFailure(r)}`);
  else out.write('ok: no violations\n');
  const secs = (performance.now() - started) / 1000;
  err.write(`${secs.toFixed(2)}s wall, ${Math.round(r.events / secs)} events/s\n`);
  return r.ok ? 0 : 1;
}

export async function sweep(o: CliOptions, out: Output): Promise<number> {
  const started = performance.now();
  let events = 0;
  const failing: number[] = [];
  await runSweep(o, (r) => {
    events += r.events;
    if (!r.ok) {
      failing.push(r.seed);
      out.write(formatFailure(r));
    }
  });
  const secs = (performance.now() - started) / 1000;
  const n = o.seeds.to - o.seeds.from + 1;
  out.write(
    `sweep seeds ${o.seeds.from}-${o.seeds.to}, ${o.workload} workload${o.plant !== undefined ? ` with planted ${o.plant}` : ''}, ` +
      `${o.nodes} nodes${o.voters !== undefined ? ` (${o.voters} voters)` : ''}, ${o.durationMs}ms faults: ${n} seeds run, ` +
      `${failing.length} violations, ${(n / secs).toFixed(1)} seeds/s, ${Math.round(events / secs)} simulated events/s ` +
      `(${secs.toFixed(1)}s, ${o.jobs} jobs)\n`,
  );
  if (failing.length > 0) out.write(`failing seeds: ${failing.join(' ')}\n`);
  return failing.length > 0 ? 1 : 0;
}
