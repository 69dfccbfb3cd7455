// `npm run bench -- targets`: every figure the benchmarks measured beside its target (issue 16),
// in one table, read from the JSON each benchmark writes under bench/results/. A full
// `npm run bench` prints it last. A benchmark marks a row as one of the targets by giving it
// `figure`, `target` and `met` columns (`met` is yes or NO); rows without a target are left out.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable, type BenchOptions, type Row } from './report.js';

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

interface ResultsFile {
  readonly benchmark?: string;
  readonly date?: string;
  readonly rows?: readonly Record<string, unknown>[];
  /** The no-stall target (issue 16: no event-loop stall over 50 ms), where a benchmark states it. */
  readonly loopLagTargetMs?: number;
  readonly targets?: { readonly lagMs?: number };
}

/** The row's name: its first text column that is not one of the target's own. */
function label(row: Record<string, unknown>): string {
  for (const [k, v] of Object.entries(row)) {
    if (k === 'figure' || k === 'target' || k === 'met') continue;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return `${k} ${v}`;
  }
  return '';
}

/** Every targeted row of every results file, benchmark by benchmark. */
export function targetRows(dir = resultsDir): Row[] {
  if (!existsSync(dir)) return [];
  const out: Row[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    let parsed: ResultsFile;
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ResultsFile;
    } catch (err) {
      out.push({ benchmark: file, what: `unreadable: ${(err as Error).message}`, figure: '', target: '', met: '' });
      continue;
    }
    for (const row of parsed.rows ?? []) {
      const target = row['target'];
      if (typeof target !== 'string' || target === '-' || target === '') continue;
      // Rows that name their figure and give its value apart (`figure` the name, `value` the measure).
      const named = row['value'] !== undefined;
      out.push({
        benchmark: parsed.benchmark ?? file.replace(/\.json$/, ''),
        what: named ? String(row['figure']) : label(row),
        figure: named ? String(row['value']) : typeof row['figure'] === 'string' ? row['figure'] : '(no figure)',
        target,
        met: typeof row['met'] === 'string' ? row['met'] : '',
        measured: (parsed.date ?? '').slice(0, 16).replace('T', ' '),
      });
    }
    // The no-stall target, for every row that measured its nodes' longest event-loop stall.
    const lagTarget = parsed.loopLagTargetMs ?? parsed.targets?.lagMs;
    for (const row of lagTarget === undefined ? [] : (parsed.rows ?? [])) {
      const lag = row['loop lag max ms (max node)'] ?? row['loop lag max ms'];
      if (typeof lag !== 'number' || lagTarget === undefined) continue;
      out.push({
        benchmark: parsed.benchmark ?? file.replace(/\.json$/, ''),
        what: `${label(row)}: longest event-loop stall, any node`,
        figure: `${Math.round(lag).toLocaleString('en-US')} ms`,
        target: `<= ${lagTarget} ms`,
        met: lag <= lagTarget ? 'yes' : 'NO',
        measured: (parsed.date ?? '').slice(0, 16).replace('T', ' '),
      });
    }
  }
  return out;
}

/** The rows as a Markdown table, the way the README shows them. */
function markdown(rows: readonly Row[]): string {
  const cols = ['benchmark', 'what', 'target', 'figure', 'met', 'measured'];
  const cell = (v: string | number | undefined): string => String(v ?? '').replaceAll('|', '\\|');
  const lines = [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${cols.map((c) => cell(r[c])).join(' | ')} |`);
  return lines.join('\n');
}

export async function targetsBench(o: BenchOptions = { quick: false }): Promise<void> {
  const rows = targetRows();
  if (rows.length === 0) {
    console.log('\ntargets: no results yet under bench/results/ (run `npm run bench` first)');
    return;
  }
  const missed = rows.filter((r) => r['met'] !== 'yes').length;
  const title = `targets (issue 16): ${rows.length - missed} of ${rows.length} met, from bench/results/*.json`;
  if (o.markdown === true) console.log(`\n${title}\n\n${markdown(rows)}`);
  else printTable(title, rows);
  await Promise.resolve();
}
