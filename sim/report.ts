import type { SimResult } from './run.js';

/** The failure report: what broke, how to replay it, and the events leading up to it. */
export function formatFailure(r: SimResult): string {
  const v = r.violation;
  if (!v) return '';
  return [
    `FAIL seed ${r.seed} (${r.nodes} nodes): ${v.invariant}`,
    `  ${v.detail}`,
    `  replay: ${r.replay}`,
    `  last ${r.recent.length} events:`,
    ...r.recent.map((l) => `    ${l}`),
    '',
  ].join('\n');
}
