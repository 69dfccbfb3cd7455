import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { at } from '../src/invariant.js';

export interface BenchOptions {
  /** `--quick`: small sizes, a smoke run that the benchmark works (its figures mean nothing). */
  readonly quick: boolean;
  /** `--markdown`: the targets table as Markdown (for the README) instead of aligned text. */
  readonly markdown?: boolean;
}

export type Benchmark = (o: BenchOptions) => Promise<void>;

export type Row = Record<string, string | number>;

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** p-th percentile (0..100) of unsorted samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = samples.slice().sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return at(sorted, rank, 'the rank is clamped to the samples');
}

export function printTable(title: string, rows: readonly Row[]): void {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined) => (v === undefined ? '' : typeof v === 'number' ? fmt(v) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => '| ' + vals.map((v, i) => v.padStart(at(widths, i, 'one width per column'))).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v < 10 ? v.toFixed(3) : v < 1000 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US');
}

/** Write `bench/results/<name>.json` with the rows and the machine they were measured on. */
export function writeResults(name: string, rows: readonly Row[], extra: Record<string, unknown> = {}): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(file, JSON.stringify({ benchmark: name, date: new Date().toISOString(), machine, ...extra, rows }, null, 2) + '\n');
  console.log(`wrote ${file}`);
  return file;
}
