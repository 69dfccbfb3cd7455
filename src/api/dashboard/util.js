// @ts-check
// Small helpers: DOM building without innerHTML (task names and outputs are user data), formats.

/**
 * What `h` and `s` take as attributes: `class`, `text`, `dataset` (an object), `onNAME` (a
 * listener), and any other attribute (`true` sets it empty; null, undefined and false leave it out).
 * @typedef {string | number | boolean | null | undefined} AttrValue
 * @typedef {{ [name: string]: AttrValue | ((ev: Event) => unknown) | Readonly<Record<string, string | number>> }} Attrs
 */

/**
 * What `h`, `s` and `fill` take as children: nodes, text, nothing (null, undefined, false), or
 * lists of these, two deep (JSDoc has no recursive type aliases).
 * @typedef {Node | string | number | null | undefined | false} Leaf
 * @typedef {Leaf | readonly (Leaf | readonly Leaf[])[]} Child
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {HTMLElement | SVGElement} node
 * @param {Attrs | null | undefined} attrs
 */
function apply(node, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    } else if (typeof v === 'object') {
      if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) node.dataset[dk] = String(dv);
    } else if (k === 'class') node.setAttribute('class', String(v));
    else if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

/**
 * @param {Element} node
 * @param {readonly Child[]} children
 */
function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * `h('a', { href, class }, child, ...)`.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} attrs
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  apply(node, attrs);
  append(node, children);
  return node;
}

/**
 * `h` for SVG elements.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} attrs
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  apply(node, attrs);
  append(node, children);
  return node;
}

/**
 * Peer ids share their `12D3KooW` prefix: the tail tells them apart.
 * @param {string | null | undefined} id
 */
export function shortId(id) {
  if (id === null || id === undefined) return '—';
  return id.length > 10 ? `…${id.slice(-6)}` : id;
}

/** @param {number | null | undefined} ms */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const sec = ms / 1000;
  if (sec < 10) return `${sec.toFixed(1)} s`;
  if (sec < 60) return `${Math.round(sec)} s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m} m ${String(Math.floor(sec % 60)).padStart(2, '0')} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

/**
 * @param {number | null | undefined} ms
 * @param {number} [now]
 */
export function fmtAgo(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return '—';
  const d = now - ms;
  if (d < 1500) return 'just now';
  return `${fmtDuration(d).replace(/ \d+ (s|m)$/, '')} ago`;
}

/** @param {number | null | undefined} ms */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const today = new Date();
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

/**
 * What went wrong, in words.
 * @param {unknown} err
 */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @param {number | null | undefined} n */
export function fmtInt(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '—';
}

/** @import { TaskState } from '../../scheduler/types.js' */

/** Tasks per state. @typedef {Readonly<Record<TaskState, number>>} Counts */

/** @type {readonly TaskState[]} */
export const TASK_STATES = ['waiting', 'ready', 'running', 'succeeded', 'failed', 'skipped'];

/** The states a progress bar shows, in its order from the left (waiting is the empty rest). @type {readonly TaskState[]} */
export const BAR_STATES = ['succeeded', 'failed', 'skipped', 'running', 'ready'];

/**
 * Replaces the children of `node`.
 * @template {Element} E
 * @param {E} node
 * @param {...Child} children
 * @returns {E}
 */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}
