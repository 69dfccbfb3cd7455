// The drawing of `meshrun sim --report`: one inline SVG built here, so the picture shows without
// JavaScript. Time runs left to right; on top the leader band, the faults and the cluster's own
// events (submits, job ends, notes); then a lane per node with its executions as bars (stacked in
// sub-rows when they overlap) and its committed claims and results as ticks. Every shape carries
// its events' text in a <title> (the page's script turns those into a custom tooltip).
import { at } from '../../src/invariant.js';
import type { ScenarioResult } from './scenario-run.js';
import { describeEvent, formatTime, type FaultType, type TimelineEvent } from './timeline.js';

type Ev<K extends TimelineEvent['kind']> = Extract<TimelineEvent, { kind: K }>;

/** How an execution ended, as drawn: the legend's names. */
export type ExecOutcome = 'succeeded' | 'failed' | 'timeout' | 'stopped' | 'crashed' | 'running';

export interface Execution {
  readonly node: string;
  readonly start: number;
  readonly end: number;
  readonly outcome: ExecOutcome;
  readonly job: string;
  readonly task: string;
  readonly attempt: number;
  /** It reported an outcome that was never committed (its node cut off, or its lease gone). */
  readonly lost: boolean;
  readonly events: readonly TimelineEvent[];
}

const W = 1280;
const X0 = 150;
const X1 = W - 24;
const ROW = 20;
const BAR = 15;
const TICKS = 11;
const NODE_COLORS = ['#2563eb', '#7c3aed', '#0891b2', '#db2777', '#ca8a04', '#4f46e5', '#0d9488', '#c2410c', '#475569'];
const FAULT_COLORS: Partial<Record<FaultType, string>> = {
  kill: '#334155',
  pause: '#0284c7',
  loss: '#ca8a04',
  delay: '#ca8a04',
  skew: '#0d9488',
};
const TICK_COLORS: Record<string, string> = {
  claim: '#2563eb',
  succeeded: '#16a34a',
  failed: '#dc2626',
  retry: '#dc2626',
  expired: '#ea580c',
  other: '#64748b',
};

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function line(e: TimelineEvent): string {
  return `${formatTime(e.t).trim()}  ${describeEvent(e)}`;
}

const fx = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Pairs each start with its end (by job, task, attempt and node); one with no end runs to the end of the run. */
export function executions(r: ScenarioResult): Execution[] {
  const open = new Map<string, Ev<'start'>[]>();
  const out: Execution[] = [];
  const key = (e: { job: string; task: string; attempt: number; node: string | null }): string =>
    JSON.stringify([e.job, e.task, e.attempt, e.node]);
  /** When each attempt left `running` in the log by its holder's result (not by a lease expiry). */
  const committed = new Map<string, number>();
  for (const c of r.timeline) if (c.kind === 'task' && c.from === 'running' && c.reason !== 'lease expired') committed.set(key(c), c.t);
  for (const e of r.timeline) {
    if (e.kind === 'start') open.set(key(e), [...(open.get(key(e)) ?? []), e]);
    if (e.kind !== 'end') continue;
    const s = open.get(key(e))?.shift();
    const outcome: ExecOutcome = e.how === 'completed' ? (e.outcome === 'succeeded' ? 'succeeded' : 'failed') : e.how;
    const reported = e.how === 'completed' || e.how === 'timeout';
    const lost = reported && !((committed.get(key(e)) ?? -1) >= e.t);
    out.push({
      node: e.node,
      start: s?.t ?? e.startedAt,
      end: e.t,
      outcome,
      job: e.job,
      task: e.task,
      attempt: e.attempt,
      lost,
      events: s ? [s, e] : [e],
    });
  }
  for (const starts of open.values()) {
    for (const s of starts)
      out.push({
        node: s.node,
        start: s.t,
        end: r.endedAt,
        outcome: 'running',
        job: s.job,
        task: s.task,
        attempt: s.attempt,
        lost: false,
        events: [s],
      });
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Greedy sub-rows: each span goes in the first row free at its start. */
function stack<T extends Span>(spans: readonly T[]): { row: number; span: T }[] {
  const rowEnds: number[] = [];
  return spans.map((span) => {
    let row = rowEnds.findIndex((end) => end <= span.start);
    if (row < 0) row = rowEnds.push(0) - 1;
    rowEnds[row] = span.end;
    return { row, span };
  });
}

interface LeaderSpan extends Span {
  readonly node: string;
  readonly term: number;
  readonly stale: boolean;
  readonly tip: string;
}

/** Who led in which term: a reign ends at its stepdown, a kill of its node, or the next leader. */
function leaderSpans(r: ScenarioResult): LeaderSpan[] {
  const spans: LeaderSpan[] = [];
  let cur: { node: string; term: number; start: number; tip: string[] } | null = null;
  /** Deposed leaders that have not stepped down yet. */
  const deposed = new Map<string, { term: number; start: number; tip: string[] }>();
  const closeStale = (node: string, t: number, why: string): void => {
    const d = deposed.get(node);
    if (!d) return;
    deposed.delete(node);
    if (t > d.start)
      spans.push({
        node,
        term: d.term,
        start: d.start,
        end: t,
        stale: true,
        tip: [`${node} still believes it leads term ${d.term} (a newer leader exists)`, ...d.tip, why].join('\n'),
      });
  };
  const close = (t: number, why: string | null, staleAfter: boolean): void => {
    if (!cur) return;
    spans.push({
      node: cur.node,
      term: cur.term,
      start: cur.start,
      end: t,
      stale: false,
      tip: [...cur.tip, ...(why ? [why] : [])].join('\n'),
    });
    if (staleAfter) deposed.set(cur.node, { term: cur.term, start: t, tip: [] });
    cur = null;
  };
  for (const e of r.timeline) {
    if (e.kind === 'leader') {
      closeStale(e.node, e.t, line(e));
      close(e.t, `${formatTime(e.t).trim()}  next leader: ${e.node} (term ${e.term})`, cur !== null && cur.node !== e.node);
      cur = { node: e.node, term: e.term, start: e.t, tip: [line(e)] };
    } else if (e.kind === 'stepdown') {
      if (cur?.node === e.node) close(e.t, line(e), false);
      else closeStale(e.node, e.t, line(e));
    } else if (e.kind === 'fault' && e.type === 'kill') {
      for (const n of e.nodes) {
        if (cur?.node === n) close(e.t, line(e), false);
        else closeStale(n, e.t, line(e));
      }
    }
  }
  close(r.endedAt, null, false);
  for (const n of [...deposed.keys()]) closeStale(n, r.endedAt, 'until the end of the run');
  return spans;
}

interface Fault extends Span {
  readonly id: number;
  readonly type: FaultType;
  readonly what: string;
  readonly nodes: readonly string[];
  readonly groups: readonly (readonly string[])[];
  readonly tip: string;
}

function faults(r: ScenarioResult): Fault[] {
  const ends = new Map<number, Ev<'fault-end'>>();
  for (const e of r.timeline) if (e.kind === 'fault-end') ends.set(e.id, e);
  return r.timeline
    .filter((e): e is Ev<'fault'> => e.kind === 'fault')
    .map((e) => {
      const end = ends.get(e.id);
      return {
        id: e.id,
        type: e.type,
        what: e.what,
        nodes: e.nodes,
        groups: e.groups,
        start: e.t,
        end: end?.t ?? r.endedAt,
        tip: [line(e), end ? line(end) : 'not ended by the end of the run'].join('\n'),
      };
    });
}

/** A partition's sides, largest last; none for other faults. */
function partitionSides(f: Fault): (readonly string[])[] {
  return f.groups
    .map((side, i) => ({ side, i }))
    .sort((a, b) => a.side.length - b.side.length || a.i - b.i)
    .map((s) => s.side);
}

function faultColor(f: Fault): string {
  return FAULT_COLORS[f.type] ?? '#9333ea';
}

function tickClass(e: Ev<'claim'> | Ev<'task'> | Ev<'refused'>): string {
  if (e.kind === 'claim') return 'claim';
  if (e.kind === 'refused') return 'failed';
  if (e.reason === 'lease expired') return 'expired';
  if (e.to === 'succeeded') return 'succeeded';
  if (e.to === 'failed') return 'failed';
  if (e.from === 'running' && (e.to === 'ready' || e.to === 'waiting')) return 'retry';
  return 'other';
}

interface Mark {
  readonly x: number;
  readonly cls: string;
  readonly lines: string[];
}

/** Marks closer than a few pixels on one row merge into one, with all their lines. */
function merge(marks: readonly { x: number; cls: string; line: string }[]): Mark[] {
  const out: Mark[] = [];
  for (const m of marks) {
    const last = out[out.length - 1];
    if (last && last.cls === m.cls && m.x - last.x < 3) last.lines.push(m.line);
    else out.push({ x: m.x, cls: m.cls, lines: [m.line] });
  }
  return out;
}

/** Label text cut to fit `px` at ~6.1 px a character (11 px sans-serif), or nothing. */
function fit(text: string, px: number): string {
  const chars = Math.floor((px - 6) / 6.1);
  if (chars >= text.length) return text;
  return chars >= 4 ? `${text.slice(0, chars - 1)}…` : '';
}

function axisStep(spanMs: number): number {
  const steps = [100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000];
  return steps.find((s) => ((X1 - X0) * s) / spanMs >= 64) ?? 1_200_000;
}

export function renderTimelineSvg(r: ScenarioResult): string {
  const spanMs = Math.max(r.endedAt, 1);
  const x = (t: number): number => X0 + (Math.min(Math.max(t, 0), spanMs) / spanMs) * (X1 - X0);
  const nodeColor = new Map(r.nodes.map((n, i) => [n.name, at(NODE_COLORS, i % NODE_COLORS.length, 'a colour')]));
  const body: string[] = [];
  const under: string[] = [];
  let y = 26;

  // Leader band.
  const lead = leaderSpans(r);
  body.push(`<text class="band" x="${X0 - 10}" y="${y + 15}">leader</text>`);
  for (const s of lead) {
    const x0 = x(s.start),
      w = Math.max(x(s.end) - x0, 1.5),
      color = nodeColor.get(s.node) ?? '#64748b';
    const [top, h] = s.stale ? [y + 17, 5] : [y, 16];
    const label = s.stale ? '' : fit(`${s.node} · term ${s.term}`, w) || fit(s.node, w);
    body.push(
      `<g class="leader${s.stale ? ' stale' : ''}" data-leader="${esc(s.node)}" data-term="${s.term}"><title>${esc(s.tip)}</title>` +
        `<rect x="${fx(x0)}" y="${top}" width="${fx(w)}" height="${h}" rx="2" fill="${color}"${s.stale ? ' fill-opacity="0.45"' : ''}/>` +
        (label ? `<text class="on" x="${fx(x0 + 4)}" y="${y + 12}">${esc(label)}</text>` : '') +
        '</g>',
    );
  }
  y += 30;

  // Fault labels, stacked when they overlap; their shading over the lanes comes later.
  const fs = faults(r);
  const fRows = stack(fs);
  const fRowCount = Math.max(1, ...fRows.map((f) => f.row + 1));
  body.push(`<text class="band" x="${X0 - 10}" y="${y + 13}">faults</text>`);
  for (const { row, span: f } of fRows) {
    const x0 = x(f.start),
      w = Math.max(x(f.end) - x0, 2),
      c = faultColor(f);
    body.push(
      `<g data-fault="${f.id}"><title>${esc(f.tip)}</title><rect x="${fx(x0)}" y="${y + row * 18}" width="${fx(w)}" height="15" rx="2" fill="${c}" fill-opacity="0.18" stroke="${c}" stroke-opacity="0.7"/>` +
        `<text class="fault" x="${fx(x0 + 4)}" y="${y + row * 18 + 11}" fill="${c}">${esc(fit(f.what, w))}</text></g>`,
    );
  }
  y += fRowCount * 18 + 6;

  // The cluster's own events: submits, job ends, notes.
  body.push(`<text class="band" x="${X0 - 10}" y="${y + 11}">cluster</text>`);
  const clusterMarks = merge(
    r.timeline
      .filter((e) => e.kind === 'submit' || e.kind === 'job' || e.kind === 'note' || (e.kind === 'task' && e.node === null))
      .map((e) => ({
        x: x(e.t),
        line: line(e),
        cls: e.kind === 'job' ? (e.state === 'succeeded' ? 'succeeded' : 'failed') : e.kind === 'submit' ? 'claim' : 'other',
      })),
  );
  for (const m of clusterMarks) {
    body.push(
      `<g data-event="cluster"><title>${esc(m.lines.join('\n'))}</title><path d="M${fx(m.x)} ${y + 1}l5 6l-5 6l-5 -6z" fill="${TICK_COLORS[m.cls]}"/></g>`,
    );
  }
  y += 20;
  const lanesTop = y;

  // A lane per node: bars in sub-rows, then a strip of ticks for its committed claims and results.
  const execs = executions(r);
  const laneY = new Map<string, { top: number; bottom: number }>();
  r.nodes.forEach((n, i) => {
    const rows = stack(execs.filter((e) => e.node === n.name));
    const rowCount = Math.max(n.slots, ...rows.map((b) => b.row + 1));
    const h = 6 + rowCount * ROW + TICKS + 4;
    laneY.set(n.name, { top: y, bottom: y + h });
    under.push(`<rect class="lane${i % 2 ? ' odd' : ''}" x="0" y="${y}" width="${W}" height="${h}"/>`);
    const sub = `${n.role} · ${n.slots} slot${n.slots === 1 ? '' : 's'}${n.skewMs ? ` · clock ${n.skewMs > 0 ? '+' : ''}${n.skewMs}ms` : ''}`;
    body.push(
      `<g data-lane="${esc(n.name)}"><circle cx="12" cy="${y + 14}" r="4" fill="${nodeColor.get(n.name)}"/>` +
        `<text class="node" x="22" y="${y + 18}">${esc(n.name)}</text><text class="sub" x="22" y="${y + 32}">${esc(sub)}</text>`,
    );
    for (const { row, span: e } of rows) {
      const x0 = x(e.start),
        w = Math.max(x(e.end) - x0, 2),
        by = y + 6 + row * ROW;
      const label = fit(`${r.dags.length > 1 ? `${e.job}/` : ''}${e.task}${e.attempt > 1 ? ` #${e.attempt}` : ''}`, w);
      const tip = [
        ...e.events.map(line),
        ...(e.outcome === 'running' ? [`${formatTime(r.endedAt).trim()}  still running at the end of the run`] : []),
        ...(e.lost ? ['its result was never committed'] : []),
      ].join('\n');
      body.push(
        `<g class="exec ${e.outcome}${e.lost ? ' lost' : ''}" data-exec="${esc(`${e.job}/${e.task}#${e.attempt}`)}" data-outcome="${e.outcome}"><title>${esc(tip)}</title>` +
          `<rect x="${fx(x0)}" y="${by}" width="${fx(w)}" height="${BAR}" rx="2"/>` +
          (label ? `<text x="${fx(x0 + 4)}" y="${by + 11}">${esc(label)}</text>` : '') +
          '</g>',
      );
    }
    const ty = y + 6 + rowCount * ROW + 1;
    const ticks = merge(
      r.timeline
        .filter(
          (e): e is Ev<'claim'> | Ev<'task'> | Ev<'refused'> =>
            (e.kind === 'claim' || e.kind === 'task' || e.kind === 'refused') && e.node === n.name,
        )
        .map((e) => ({ x: x(e.t), cls: tickClass(e), line: line(e) })),
    );
    for (const m of ticks) {
      body.push(
        `<g class="tick" data-tick="${m.cls}"><title>${esc(m.lines.join('\n'))}</title><rect x="${fx(m.x - 3)}" y="${ty - 1}" width="6" height="${TICKS + 1}" fill="transparent"/>` +
          `<path d="M${fx(m.x)} ${ty}v${TICKS - 3}" stroke="${TICK_COLORS[m.cls]}" stroke-width="2"/><circle cx="${fx(m.x)}" cy="${ty + TICKS - 2}" r="2.2" fill="${TICK_COLORS[m.cls]}"/></g>`,
      );
    }
    body.push('</g>');
    y += h;
  });
  const lanesBottom = y;

  // Fault shading over the lanes of the nodes they act on (one span when they act on all).
  for (const f of fs) {
    const x0 = x(f.start),
      w = Math.max(x(f.end) - x0, 2),
      c = faultColor(f);
    const all = r.nodes.every((n) => f.nodes.includes(n.name));
    const sides = partitionSides(f);
    const bands =
      sides.length > 1
        ? sides.flatMap((side, i) =>
            side
              .flatMap((n) => laneY.get(n) ?? [])
              .map((b) => ({ ...b, opacity: i === sides.length - 1 ? 0.05 : 0.16, tip: `${f.tip}\nthis side: {${side.join(',')}}` })),
          )
        : (all ? [{ top: lanesTop, bottom: lanesBottom }] : f.nodes.flatMap((n) => laneY.get(n) ?? [])).map((b) => ({
            ...b,
            opacity: all ? 0.07 : 0.14,
            tip: f.tip,
          }));
    for (const b of bands) {
      under.push(
        `<g data-fault-span="${f.id}"><title>${esc(b.tip)}</title><rect x="${fx(x0)}" y="${b.top}" width="${fx(w)}" height="${b.bottom - b.top}" fill="${c}" fill-opacity="${b.opacity}"/>` +
          `<path d="M${fx(x0)} ${b.top}v${b.bottom - b.top}M${fx(x0 + w)} ${b.top}v${b.bottom - b.top}" stroke="${c}" stroke-opacity="0.5" stroke-dasharray="3 3"/></g>`,
      );
    }
  }

  // Time axis on top and at the bottom, grid lines between.
  const axis: string[] = [];
  const step = axisStep(spanMs);
  for (let t = 0; t <= spanMs; t += step) {
    const label = step < 1000 ? `${(t / 1000).toFixed(step % 1000 === 0 ? 0 : step % 500 === 0 ? 1 : 2)}s` : `${t / 1000}s`;
    axis.push(
      `<path class="grid" d="M${fx(x(t))} 20V${lanesBottom}"/><text class="axis" x="${fx(x(t))}" y="14">${label}</text>` +
        `<text class="axis" x="${fx(x(t))}" y="${lanesBottom + 14}">${label}</text>`,
    );
  }
  // The final heal, and the end of the run.
  const hx = fx(x(r.healAt));
  const heal =
    r.healAt <= spanMs
      ? `<g data-heal=""><title>${esc(`${formatTime(r.healAt).trim()}  end of the fault schedule: everything healed; every job must now finish within the bound`)}</title>` +
        `<path class="heal" d="M${hx} 20V${lanesBottom}"/><rect x="${fx(x(r.healAt) - 4)}" y="20" width="8" height="${lanesBottom - 20}" fill="transparent"/>` +
        `<text class="heal" x="${hx}" y="${lanesBottom + 28}">heal ${formatTime(r.healAt).trim()}</text></g>`
      : '';
  const height = lanesBottom + 36;
  return (
    `<svg class="timeline" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(`timeline of scenario ${r.scenario}`)}">` +
    '<defs><pattern id="stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#94a3b8"/><rect width="3" height="6" fill="#cbd5e1"/></pattern>' +
    '<pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="5" height="5" fill="#7f1d1d"/><rect width="1.6" height="5" fill="#fca5a5"/></pattern></defs>' +
    `${under.join('')}${axis.join('')}${heal}${body.join('')}</svg>`
  );
}
