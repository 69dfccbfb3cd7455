// @ts-check
// A job's DAG as an SVG laid out by dagre: one box per task spec, edges from its deps. A spec
// with up to GROUP_MIN shards shows each shard as a chip; a larger one is a single box with a
// bar and the count per state (from the spec's counts: no task is read). A job of more specs than
// layers.js draws one by one is drawn as a box per level. Built once per job structure, then
// updated in place (so the running animation does not restart on every refresh).
import dagre from './dagre.js';
import { s, BAR_STATES, fmtDuration, shortId, TASK_STATES } from './util.js';
import { bandsOf, MAX_DRAWN_SPECS, sumCounts } from './layers.js';

/** @import { EdgeLabel, Graph, GraphLabel, NodeLabel, Point } from '@dagrejs/dagre' */
/** @import { JobDetail, SpecSummary, SpecView, TaskState, TaskView } from '../../scheduler/types.js' */
/** @import { Counts } from './util.js' */

/**
 * What is selected in the graph: a task (`from` the spec whose shard grid it was picked in), or a
 * spec drawn as one box.
 * @typedef {{ task?: string, from?: string, spec?: string }} Selection
 */
/**
 * The job as the page shows it: GET /v1/jobs/{id} plus the tasks it has read, by full name (those
 * of the specs drawn task by task; none for a job drawn by level).
 * @typedef {JobDetail & { tasks: Record<string, TaskView> }} ShownJob
 */
/** @typedef {'LR' | 'TB'} Rankdir */
/** @typedef {{ width: number, height: number }} Size */
/**
 * A laid-out drawing: each spec's box (centre and size) and each edge's points.
 * @typedef {{ width: number, height: number, nodes: Map<string, Size & Point>, edges: { from: string, to: string, points: readonly Point[] }[] }} Layout
 */
/**
 * @typedef {object} DrawnGraph
 * @property {SVGSVGElement} svg
 * @property {number} width
 * @property {number} height
 * @property {readonly SpecView[]} specs
 * @property {Map<string, SpecView>} specByName the boxes drawn: specs, or levels
 * @property {Map<string, readonly string[]> | null} bands for a job drawn by level: each level's specs
 * @property {(job: ShownJob, now?: number) => void} update shows the job's states
 * @property {(sel: Selection | null) => void} select marks the selection
 */
/** @typedef {(job: ShownJob, now: number, counts: (box: string) => Counts) => void} Updater */

/** More shards than this are drawn as one box with counts. */
export const GROUP_MIN = 8;

const TASK_W = 176;
const TASK_H = 50;
const CHIP = 18;
const CHIP_GAP = 5;
const GROUP_W = 212;
const GROUP_H = 78;
/** The offset of a box's ×N after its name, and the least room between the name and the count. */
const MULT_DX = 6;
const NAME_GAP = 10;

/**
 * The boxes to draw, in order: the job's specs, or for a big job its levels (layers.js).
 * @param {JobDetail} job
 * @returns {{ boxes: readonly SpecView[], bands: Map<string, readonly string[]> | null }}
 */
export function boxesOf(job) {
  const bands = bandsOf(job.specs);
  if (bands === null) return { boxes: job.specs, bands: null };
  return { boxes: bands, bands: new Map(bands.map((b) => [b.name, b.members])) };
}

/**
 * The specs whose tasks the graph draws one by one (a task box, or a few shards' chips): the
 * page reads those tasks, and no others.
 * @param {JobDetail} job
 * @returns {SpecSummary[]}
 */
export function specsDrawnByTask(job) {
  if (job.specs.length > MAX_DRAWN_SPECS) return [];
  return job.specs.filter((sp) => sp.shards === null || sp.shards <= GROUP_MIN);
}

/**
 * The task names of a spec: its name, or `name[i]` for each shard.
 * @param {SpecView} spec
 * @returns {string[]}
 */
export function taskNames(spec) {
  if (spec.shards === null) return [spec.name];
  return Array.from({ length: spec.shards }, (_, i) => `${spec.name}[${i}]`);
}

/**
 * @param {ShownJob} job
 * @param {readonly string[]} names
 * @returns {Counts}
 */
export function countStates(job, names) {
  /** @type {Record<TaskState, number>} */
  const c = { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const n of names) {
    const t = job.tasks[n];
    if (t) c[t.state]++;
  }
  return c;
}

/**
 * One state for a group of tasks: what most needs attention first.
 * @param {Counts} c
 * @returns {TaskState}
 */
export function aggregateState(c) {
  const total = TASK_STATES.reduce((a, k) => a + c[k], 0);
  if (c.running > 0) return 'running';
  if (c.failed > 0) return 'failed';
  if (c.ready > 0) return 'ready';
  if (c.waiting > 0) return c.succeeded > 0 ? 'running' : 'waiting';
  if (total > 0 && c.succeeded === total) return 'succeeded';
  if (c.skipped > 0) return 'skipped';
  return 'waiting';
}

/**
 * The width `el` would take with `text` (it keeps the text); 0 before the page lays it out.
 * @param {SVGTextContentElement} el
 * @param {string} text
 */
function widthOf(el, text) {
  el.textContent = text;
  return el.isConnected ? el.getComputedTextLength() : 0;
}

/**
 * Sets `el`'s text, shortened with an ellipsis to fit `maxW` pixels (measured: the font is the user's).
 * @param {SVGTextContentElement} el
 * @param {string} text
 * @param {number} maxW
 */
function fitText(el, text, maxW) {
  if (el.dataset.full === text) return;
  el.dataset.full = text;
  el.textContent = text;
  if (!el.isConnected) return;
  if (el.getComputedTextLength() <= maxW) return;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    el.textContent = `${text.slice(0, mid)}…`;
    if (el.getComputedTextLength() <= maxW) lo = mid;
    else hi = mid - 1;
  }
  el.textContent = `${text.slice(0, lo)}…`;
}

/**
 * How a spec is drawn: one task, a box of chips, or one box with counts (a level is one too: its
 * name has a space, which no spec's has).
 * @param {SpecView} spec
 * @returns {'task' | 'shards' | 'group'}
 */
function kindOf(spec) {
  if (spec.name.includes(' ')) return 'group';
  if (spec.shards === null) return 'task';
  return spec.shards > GROUP_MIN ? 'group' : 'shards';
}

/**
 * @param {SpecView} spec
 * @returns {Size}
 */
function sizeOf(spec) {
  const kind = kindOf(spec);
  if (kind === 'task') return { width: TASK_W, height: TASK_H };
  if (kind === 'group' || spec.shards === null) return { width: GROUP_W, height: GROUP_H };
  // As wide as a group box at least: the name shares its line with the count.
  return { width: Math.max(GROUP_W, 24 + spec.shards * (CHIP + CHIP_GAP) - CHIP_GAP), height: 66 };
}

/**
 * A key that changes only when the drawing's structure does (a job's specs never change, but the
 * page may be shown another job).
 * @param {JobDetail} job
 */
export function structureKey(job) {
  const specs = job.specs;
  if (specs.length > MAX_DRAWN_SPECS) return `${job.id}|${specs.length} specs`;
  return `${job.id}|${specs.map((sp) => `${sp.name}:${sp.shards}:${sp.deps.join(',')}`).join(';')}`;
}

/**
 * @param {readonly SpecView[]} specs
 * @returns {Layout}
 */
function gridLayout(specs) {
  const sizes = specs.map(sizeOf);
  const cols = Math.max(1, Math.min(5, Math.ceil(Math.sqrt(specs.length * 1.6))));
  const colW = Math.max(...sizes.map((z) => z.width)) + 28;
  const rowH = Math.max(...sizes.map((z) => z.height)) + 24;
  /** @type {Layout['nodes']} */
  const nodes = new Map();
  specs.forEach((sp, i) => {
    const z = sizeOf(sp);
    nodes.set(sp.name, { x: 16 + (i % cols) * colW + z.width / 2, y: 16 + Math.floor(i / cols) * rowH + z.height / 2, ...z });
  });
  const rows = Math.ceil(specs.length / cols);
  return { width: 32 + Math.min(cols, specs.length) * colW - 28, height: 32 + rows * rowH - 24, nodes, edges: [] };
}

/**
 * @param {readonly SpecView[]} specs
 * @param {Rankdir} rankdir
 * @returns {Layout}
 */
function layout(specs, rankdir) {
  // No edges to lay out: a grid in spec order.
  if (specs.every((sp) => sp.deps.length === 0)) return gridLayout(specs);
  const names = new Set(specs.map((sp) => sp.name));
  /** @type {Graph<GraphLabel, NodeLabel, EdgeLabel>} */
  const g = new dagre.graphlib.Graph();
  g.setGraph(
    rankdir === 'LR'
      ? { rankdir, nodesep: 18, ranksep: 56, edgesep: 12, marginx: 16, marginy: 16 }
      : { rankdir, nodesep: 24, ranksep: 44, edgesep: 12, marginx: 16, marginy: 16 },
  );
  g.setDefaultEdgeLabel(() => ({}));
  for (const sp of specs) g.setNode(sp.name, sizeOf(sp));
  for (const sp of specs) for (const d of sp.deps) if (names.has(d)) g.setEdge(d, sp.name);
  dagre.layout(g);
  /** @type {Layout['nodes']} */
  const nodes = new Map();
  for (const sp of specs) {
    const n = g.node(sp.name);
    // dagre places every node it is given; a node without a place is a bug in this file.
    if (n.x === undefined || n.y === undefined) throw new Error(`dagre placed no box for ${sp.name}`);
    nodes.set(sp.name, { x: n.x, y: n.y, width: n.width, height: n.height });
  }
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points ?? [] }));
  const gr = g.graph();
  return { width: gr.width ?? 0, height: gr.height ?? 0, nodes, edges };
}

/**
 * The room a graph is judged against when its direction is chosen: a fixed box per kind of screen,
 * never the room the page happens to have at the moment (a scroll bar, an open panel, the
 * window's height), which made a job's graph flip between renders.
 */
const REFERENCE = { wide: { width: 1200, height: 640 }, narrow: { width: 360, height: 640 } };

/**
 * Left to right reads like a pipeline, so it is the default; top to bottom when that shows the
 * graph clearly larger in the reference box (long chains, a narrow screen). The same job on the
 * same kind of screen always gets the same direction.
 * @param {readonly SpecView[]} specs
 * @param {boolean} narrow
 * @returns {{ L: Layout, rankdir: Rankdir }}
 */
function bestLayout(specs, narrow) {
  const lr = layout(specs, 'LR');
  if (lr.edges.length === 0) return { L: lr, rankdir: 'LR' };
  const room = narrow ? REFERENCE.narrow : REFERENCE.wide;
  /** @param {Layout} L */
  const score = (L) => Math.min(1, room.width / L.width, room.height / L.height);
  const tb = layout(specs, 'TB');
  return score(tb) > score(lr) * 1.15 ? { L: tb, rankdir: 'TB' } : { L: lr, rankdir: 'LR' };
}

/**
 * A smooth path through dagre's points: quadratic curves through the midpoints, ending at the last.
 * @param {readonly Point[]} points
 */
function edgePath(points) {
  const [first, ...rest] = points;
  const last = rest[rest.length - 1];
  if (first === undefined || last === undefined) return '';
  let d = `M${first.x},${first.y}`;
  if (rest.length === 1) return `${d} L${last.x},${last.y}`;
  rest.forEach((p, i) => {
    const next = rest[i + 1];
    if (next === undefined) return;
    const end = next === last;
    d += ` Q${p.x},${p.y} ${end ? next.x : (p.x + next.x) / 2},${end ? next.y : (p.y + next.y) / 2}`;
  });
  return d;
}

function defs() {
  return s(
    'defs',
    null,
    s(
      'marker',
      { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }),
    ),
    s(
      'marker',
      { id: 'arrow-done', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead done' }),
    ),
    s(
      'pattern',
      { id: 'stripes', width: '8', height: '8', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      s('rect', { width: '8', height: '8', class: 'stripe-bg' }),
      s('rect', { width: '3.5', height: '8', class: 'stripe-fg' }),
    ),
  );
}

/**
 * A task's state in a few words, for its box and its tooltip.
 * @param {TaskView | undefined} t
 * @param {number} now
 */
function taskSubline(t, now) {
  if (!t) return '';
  switch (t.state) {
    case 'running':
      return `running ${t.startedAt ? fmtDuration(now - t.startedAt) : ''} · ${shortId(t.node)}${t.attempt > 1 ? ` · try ${t.attempt}` : ''}`;
    case 'succeeded':
      return `succeeded · ${fmtDuration(t.durationMs)}`;
    case 'failed':
      return `failed${t.exitCode !== null ? ` · exit ${t.exitCode}` : ''}${t.reason && t.reason !== 'attempt failed' ? ` · ${t.reason}` : ''}`;
    case 'ready':
      return t.retryAt ? `retry ${t.attempt + 1} pending` : 'ready';
    case 'skipped':
      return t.reason ? `skipped · ${t.reason}` : 'skipped';
    default:
      return 'waiting for deps';
  }
}

/**
 * A task's tooltip: its full name and state line (the box may have shortened both).
 * @param {string} name
 * @param {TaskView | undefined} t
 * @param {number} now
 */
function taskTip(name, t, now) {
  const line = taskSubline(t, now);
  return line ? `${name}\n${line}` : name;
}

/**
 * A box's name (`label`, a tspan of `title` before its ×N) fitted into the room left of the count
 * at the box's right end, `widest` being the widest text the count can show. Measured, as the font
 * is the user's; done once, on the first update after the graph is on the page.
 * @param {SVGTSpanElement} label
 * @param {SVGTextElement} title
 * @param {SVGTextElement} count
 * @param {string} widest
 * @param {string} name
 * @param {number} boxWidth
 * @returns {() => void}
 */
function nameBeside(label, title, count, widest, name, boxWidth) {
  let done = false;
  return () => {
    if (done || !title.isConnected) return;
    done = true;
    const countW = widthOf(count, widest);
    count.textContent = '';
    label.textContent = name;
    // The ×N after the name: the line's length less the name's, and its offset.
    const multW = title.getComputedTextLength() - label.getComputedTextLength() + MULT_DX;
    fitText(label, name, Math.max(24, boxWidth - 24 - countW - NAME_GAP - multW));
  };
}

/** @type {readonly TaskState[]} */
const COUNTS_ORDER = ['running', 'failed', 'ready', 'waiting', 'succeeded', 'skipped'];

/** @param {Counts} c */
function countsLine(c) {
  /** @type {string[]} */
  const parts = [];
  for (const k of COUNTS_ORDER) if (c[k] > 0) parts.push(`${c[k]} ${k}`);
  return parts.join(' · ');
}

/**
 * What drawing one spec's box needs.
 * @typedef {object} Box
 * @property {SVGGElement} g the box's group, placed
 * @property {SpecView} sp
 * @property {Size} pos
 * @property {readonly string[]} names its tasks
 * @property {(el: SVGGElement, sel: Selection, label: string) => void} clickable
 * @property {Map<string, TaskState>} specState each spec's state, for the edges
 */

/**
 * A spec of one task: a dot, its name and a line of state.
 * @param {Box} b
 * @returns {Updater}
 */
function drawTask({ g, sp, pos, clickable, specState }) {
  const name = sp.name;
  g.dataset.task = name;
  const box = s('rect', { class: 'box', width: pos.width, height: pos.height, rx: '9' });
  const hatch = s('rect', { class: 'hatch', width: pos.width, height: pos.height, rx: '9' });
  const dot = s('circle', { class: 'dot', cx: '16', cy: '18', r: '5' });
  const title = s('text', { class: 'name', x: '28', y: '22' });
  const sub = s('text', { class: 'sub', x: '28', y: '39' });
  // The box is short of room for a long name or reason: the tooltip has both in full.
  const tip = s('title', null, name);
  g.append(tip, box, hatch, dot, title, sub);
  clickable(g, { task: name }, `task ${name}`);
  return (j, now, counts) => {
    const t = j.tasks[name];
    // The spec's counts say its one task's state even before the task itself is read.
    const c = counts(name);
    const state = t ? t.state : (TASK_STATES.find((k) => c[k] > 0) ?? 'waiting');
    g.dataset.state = state;
    specState.set(sp.name, state);
    fitText(title, name, pos.width - 38);
    fitText(sub, taskSubline(t, now), pos.width - 38);
    tip.textContent = taskTip(name, t, now);
  };
}

/**
 * A spec of a few shards: its name, how many succeeded, a chip per shard.
 * @param {Box} b
 * @param {number} shards
 * @returns {Updater}
 */
function drawShards({ g, sp, pos, names, clickable, specState }, shards) {
  g.dataset.shards = String(shards);
  const box = s('rect', { class: 'box frame', width: pos.width, height: pos.height, rx: '9' });
  const label = s('tspan', null);
  const title = s('text', { class: 'name', x: '12', y: '20' }, label, s('tspan', { class: 'mult', dx: String(MULT_DX) }, `×${shards}`));
  const summary = s('text', { class: 'sub end', x: String(pos.width - 12), y: '20' });
  g.append(s('title', null, `${sp.name}: ${shards} shards`), box, title, summary);
  const chips = names.map((n, i) => {
    const tip = s('title', null, n);
    const c = s('g', { class: 'chip', transform: `translate(${12 + i * (CHIP + CHIP_GAP)},32)`, dataset: { task: n } });
    c.append(
      tip,
      s('rect', { class: 'box', width: CHIP, height: CHIP, rx: '4' }),
      s('rect', { class: 'hatch', width: CHIP, height: CHIP, rx: '4' }),
      s('text', { class: 'idx', x: String(CHIP / 2), y: '13' }, String(i)),
    );
    clickable(c, { task: n }, `task ${n}`);
    g.append(c);
    return { c, tip, name: n };
  });
  const fitName = nameBeside(label, title, summary, `${shards}/${shards}`, sp.name, pos.width);
  return (j, now, counts) => {
    const c = counts(sp.name);
    const agg = aggregateState(c);
    g.dataset.state = agg;
    specState.set(sp.name, agg);
    fitName();
    summary.textContent = `${c.succeeded}/${shards}`;
    for (const chip of chips) {
      const t = j.tasks[chip.name];
      chip.c.dataset.state = t ? t.state : 'waiting';
      chip.tip.textContent = taskTip(chip.name, t, now);
    }
  };
}

/**
 * A spec of many shards: one box with its name, the share done, a bar and the counts.
 * @param {Box} b
 * @param {number} shards
 * @returns {Updater}
 */
function drawGroup({ g, sp, pos, clickable, specState }, shards) {
  g.dataset.shards = String(shards);
  const box = s('rect', { class: 'box frame', width: pos.width, height: pos.height, rx: '9' });
  const stack1 = s('rect', { class: 'stack', x: '4', y: '4', width: pos.width, height: pos.height, rx: '9' });
  const label = s('tspan', null);
  const title = s(
    'text',
    { class: 'name', x: '12', y: '22' },
    label,
    s('tspan', { class: 'mult', dx: String(MULT_DX) }, `×${shards.toLocaleString('en-US')}`),
  );
  const pct = s('text', { class: 'sub end', x: String(pos.width - 12), y: '22' });
  const fitName = nameBeside(label, title, pct, '100%', sp.name, pos.width);
  const barW = pos.width - 24;
  const barBg = s('rect', { class: 'bar-bg', x: '12', y: '33', width: barW, height: '8', rx: '4' });
  const segs = BAR_STATES.map((k) => ({ k, rect: s('rect', { class: `seg ${k}`, y: '33', height: '8', x: '12', width: '0' }) }));
  const bar = s(
    'g',
    { class: 'bar' },
    segs.map((seg) => seg.rect),
  );
  const counts = s('text', { class: 'sub', x: '12', y: '60' });
  const level = kindOf(sp) === 'group' && sp.name.includes(' ');
  const what = level ? `${shards.toLocaleString('en-US')} tasks of ${sp.name}` : `${shards} shards of ${sp.name}`;
  g.append(s('title', null, `${what} (click for each ${level ? 'spec' : 'shard'})`), stack1, box, title, pct, barBg, bar, counts);
  clickable(g, { spec: sp.name }, what);
  return (_j, _now, countsOf) => {
    const c = countsOf(sp.name);
    const agg = aggregateState(c);
    g.dataset.state = agg;
    g.dataset.counts = JSON.stringify(c);
    specState.set(sp.name, agg);
    fitName();
    let x = 12;
    for (const { k, rect } of segs) {
      const w = (barW * c[k]) / shards;
      rect.setAttribute('x', String(x));
      rect.setAttribute('width', String(w));
      x += w;
    }
    pct.textContent = `${Math.floor((100 * (c.succeeded + c.failed + c.skipped)) / shards)}%`;
    fitText(counts, countsLine(c), pos.width - 24);
  };
}

/**
 * Draws `job` into a new SVG, laid out for a narrow screen or a wide one. `onSelect({ task })` or
 * `onSelect({ spec })` (a spec or a level) on a click.
 * @param {JobDetail} job
 * @param {(sel: Selection) => void} onSelect
 * @param {{ narrow: boolean }} screen
 * @returns {DrawnGraph}
 */
export function drawGraph(job, onSelect, { narrow }) {
  const { boxes: specs, bands } = boxesOf(job);
  const { L, rankdir } = bestLayout(specs, narrow);
  const svg = s(
    'svg',
    {
      class: 'graph',
      viewBox: `0 0 ${L.width} ${L.height}`,
      role: 'img',
      'aria-label': `task graph of ${job.name}`,
      dataset: { graph: job.id, rankdir },
    },
    defs(),
  );
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  svg.append(edgeLayer, nodeLayer);
  /** @type {Updater[]} */
  const updaters = [];
  /** @type {{ el: SVGGElement, sel: Selection }[]} */
  const selectables = [];
  const specByName = new Map(specs.map((sp) => [sp.name, sp]));
  /** @type {Map<string, TaskState>} */
  const specState = new Map();

  const edgeEls = L.edges.map((e) => {
    const path = s('path', { d: edgePath(e.points), class: 'edge', 'marker-end': 'url(#arrow)', dataset: { from: e.from, to: e.to } });
    edgeLayer.append(path);
    return { e, path };
  });

  /** @type {Box['clickable']} */
  const clickable = (el, sel, label) => {
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', label);
    el.addEventListener('click', (ev) => {
      ev.stopPropagation();
      onSelect(sel);
    });
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        onSelect(sel);
      }
    });
    selectables.push({ el, sel });
  };

  for (const sp of specs) {
    const pos = L.nodes.get(sp.name);
    if (pos === undefined) throw new Error(`the layout has no box for ${sp.name}`);
    const g = s('g', {
      class: `node ${kindOf(sp)}`,
      transform: `translate(${pos.x - pos.width / 2},${pos.y - pos.height / 2})`,
      dataset: { spec: sp.name },
    });
    nodeLayer.append(g);
    const kind = kindOf(sp);
    const b = { g, sp, pos, names: kind === 'group' ? [] : taskNames(sp), clickable, specState };
    if (kind === 'task') updaters.push(drawTask(b));
    else if (kind === 'shards') updaters.push(drawShards(b, sp.shards ?? 1));
    else updaters.push(drawGroup(b, sp.shards ?? 1));
  }

  return {
    svg,
    width: L.width,
    height: L.height,
    specs,
    specByName,
    bands,
    update(j, now = Date.now()) {
      const byName = new Map(j.specs.map((sp) => [sp.name, sp]));
      /** @param {string} box */
      const counts = (box) => sumCounts(byName, bands?.get(box) ?? [box]);
      for (const u of updaters) u(j, now, counts);
      for (const { e, path } of edgeEls) {
        const done = specState.get(e.from) === 'succeeded';
        path.classList.toggle('done', done);
        path.setAttribute('marker-end', done ? 'url(#arrow-done)' : 'url(#arrow)');
        path.classList.toggle('active', done && specState.get(e.to) === 'running');
      }
    },
    select(sel) {
      for (const { el, sel: mine } of selectables) {
        const on =
          sel !== null && ((sel.task !== undefined && mine.task === sel.task) || (sel.spec !== undefined && mine.spec === sel.spec));
        el.classList.toggle('selected', on);
      }
    },
  };
}
