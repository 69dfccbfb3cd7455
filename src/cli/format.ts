// Small text helpers the client commands share: aligned tables, durations, short peer ids.

/** Left-aligned columns separated by two spaces; the header is upper-cased. No trailing spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd() + '\n').join('');
}

/** `340ms`, `12.3s`, `4m05s`, `2h03m`; `-` for null. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)}ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)}s`;
  const s = Math.floor(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The last 8 characters of a peer id: unique enough in one cluster, and what the node logs show. */
export function shortId(id: string | null | undefined): string {
  if (id === null || id === undefined || id === '') return '-';
  return id.length > 8 ? id.slice(-8) : id;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
