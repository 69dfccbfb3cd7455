// Small text helpers the client commands share: aligned tables, durations, short peer ids.

/** Left-aligned columns separated by two spaces; the header is upper-cased. No trailing spaces. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map(
      (r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
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

/** Bytes as `512 B`, `12.3 KiB`, `4.0 MiB`, `1.2 GiB`; `-` for null. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A time of day in UTC, `14:03:05`, with the date in front when it is not today's. */
export function formatClock(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  const sameDay = iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10);
  return sameDay ? `${iso.slice(11, 19)} UTC` : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** What a node is called in tables: the name it gave itself (`--name`), made unique by its short id where two share one; its short id when it has none. */
export function nodeLabels(nodes: readonly { readonly id: string; readonly name?: string | null }[]): (id: string | null) => string {
  const names = new Map<string, string>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    if (typeof n.name !== 'string' || n.name === '') continue;
    names.set(n.id, n.name);
    uses.set(n.name, (uses.get(n.name) ?? 0) + 1);
  }
  return (id) => {
    if (id === null || id === '') return '-';
    const name = names.get(id);
    if (name === undefined) return shortId(id);
    return (uses.get(name) ?? 0) > 1 ? `${name}/${shortId(id)}` : name;
  };
}
