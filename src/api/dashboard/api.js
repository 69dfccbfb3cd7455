// @ts-check
// The page's side of the HTTP API: JSON calls with the token (kept in sessionStorage), and live
// updates: the server-sent events of GET /v1/events (read with fetch, which, unlike EventSource,
// can send the token), falling back to polling every second while the stream is down or full.
// The answers' types are the API's own (src/api/types.ts, src/scheduler/types.ts): the page trusts
// the node that served it to answer in them, as the CLI does.

/** @import { ClusterView, NodeInfo, ScheduleInfo } from '../types.js' */
/** @import { JobDetail, JobSummary, SpecPage, TaskItem, TaskPage } from '../../scheduler/types.js' */

/**
 * One server-sent event: its name and its data (JSON when it parses).
 * @typedef {{ event: string, data: unknown }} LiveEvent
 */

/** @typedef {'live' | 'polling' | 'offline'} LiveMode */

const TOKEN_KEY = 'meshrun.token';

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status, or 0 when the node could not be reached
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** @param {string | null} token */
export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts until the page is closed
  }
}

/** @type {() => void} */
let onUnauthorized = () => {};
/**
 * Called when the node answers 401: the page asks for the token.
 * @param {() => void} fn
 */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/**
 * @param {Record<string, string>} extra
 * @returns {Record<string, string>}
 */
function headers(extra) {
  /** @type {Record<string, string>} */
  const out = { accept: 'application/json', ...extra };
  const t = getToken();
  if (t) out.authorization = `Bearer ${t}`;
  return out;
}

/**
 * JSON from the API; throws ApiError with the server's own message on a non-2xx answer.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<unknown>}
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  /** @type {RequestInit} */
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (signal !== undefined) init.signal = signal;
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'cannot reach this node');
  }
  if (res.status === 401) {
    onUnauthorized();
    throw new ApiError(401, 'this node requires an API token');
  }
  /** @type {unknown} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) throw new ApiError(res.status, errorOf(data) ?? `${res.status} ${res.statusText}`);
  return data;
}

/**
 * The `error` of an API error answer (`{ error, details }`), when it has one.
 * @param {unknown} data
 * @returns {string | null}
 */
function errorOf(data) {
  if (typeof data !== 'object' || data === null || !('error' in data)) return null;
  return typeof data.error === 'string' && data.error !== '' ? data.error : null;
}

/** @returns {Promise<ClusterView>} GET /v1/cluster */
export async function getCluster() {
  return /** @type {ClusterView} */ (await api('/v1/cluster'));
}

/** @returns {Promise<JobSummary[]>} GET /v1/jobs */
export async function listJobs() {
  return /** @type {{ jobs: JobSummary[] }} */ (await api('/v1/jobs')).jobs;
}

/** Specs per page when the page reads a big job's specs: the API's maximum. */
const SPEC_PAGE = 5000;

/**
 * The job with every spec: GET /v1/jobs/{id} (the summary and the first 500 specs with their
 * counts, no tasks), then GET /v1/jobs/{id}/specs pages from its `specsNext` on. A job of 20,000
 * specs is four more requests, each a bounded piece of the node's time, not one answer of 3 MB.
 * @param {string} id
 * @returns {Promise<JobDetail>} `specsNext` null and `specs` complete
 */
export async function getJob(id) {
  const job = /** @type {JobDetail} */ (await api(`/v1/jobs/${encodeURIComponent(id)}`));
  if (job.specsNext === null) return job;
  const specs = [...job.specs];
  /** @type {string | null} */
  let after = job.specsNext;
  while (after !== null) {
    const q = new URLSearchParams({ limit: String(SPEC_PAGE), after });
    const page = /** @type {SpecPage} */ (await api(`/v1/jobs/${encodeURIComponent(id)}/specs?${q}`));
    specs.push(...page.specs);
    after = page.next;
  }
  return { ...job, specs, specsNext: null };
}

/**
 * A page of the job's tasks, in task order (docs/http-api.md §6).
 * @param {string} id
 * @param {{ spec?: string, after?: string | null, limit: number }} q
 * @returns {Promise<TaskPage>} GET /v1/jobs/{id}/tasks
 */
export async function getTaskPage(id, { spec, after, limit }) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (spec !== undefined) q.set('spec', spec);
  if (after) q.set('after', after);
  return /** @type {TaskPage} */ (await api(`/v1/jobs/${encodeURIComponent(id)}/tasks?${q}`));
}

/**
 * @param {string} id
 * @param {string} task
 * @returns {Promise<TaskItem>} GET /v1/jobs/{id}/tasks/{task}
 */
export async function getTask(id, task) {
  return /** @type {TaskItem} */ (await api(`/v1/jobs/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}`));
}

/**
 * @param {string} id
 * @returns {Promise<void>} POST /v1/jobs/{id}/cancel
 */
export async function cancelJob(id) {
  await api(`/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {} });
}

/** @returns {Promise<NodeInfo[]>} GET /v1/nodes */
export async function listNodes() {
  return /** @type {{ nodes: NodeInfo[] }} */ (await api('/v1/nodes')).nodes;
}

/** @returns {Promise<ScheduleInfo[]>} GET /v1/schedules */
export async function listSchedules() {
  return /** @type {{ schedules: ScheduleInfo[] }} */ (await api('/v1/schedules')).schedules;
}

/**
 * The path of a task's log (task names such as `x[3]` escaped).
 * @param {string} job
 * @param {string} task
 */
export function logPath(job, task) {
  return `/v1/jobs/${encodeURIComponent(job)}/tasks/${encodeURIComponent(task)}/log`;
}

/**
 * Opens a task's log in a new tab; with a token it is fetched here (a plain link cannot send it).
 * @param {string} job
 * @param {string} task
 */
export async function openLog(job, task) {
  const path = logPath(job, task);
  const win = window.open('', '_blank');
  try {
    const res = await fetch(path, { headers: headers({ accept: 'text/plain, */*' }) });
    if (res.status === 401) onUnauthorized();
    const text = res.ok ? await res.text() : `${res.status}: ${(await res.text().catch(() => '')) || res.statusText}`;
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    if (win) win.location.href = url;
    else window.location.href = url;
  } catch (err) {
    if (win) win.close();
    throw err;
  }
}

/**
 * Calls `onChange(event)` whenever something may have changed: on every server-sent event when
 * the node has GET /v1/events, else once a second. `onMode(mode)` reports 'live', 'polling' or
 * 'offline'. Polling pauses while the tab is hidden.
 */
export class LiveUpdates {
  /**
   * @param {(ev: LiveEvent | null) => void} onChange
   * @param {(mode: LiveMode) => void} onMode
   */
  constructor(onChange, onMode) {
    this.onChange = onChange;
    this.onMode = onMode;
    /** @type {LiveMode | null} */
    this.mode = null;
    /** @type {AbortController | null} */
    this.abort = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retry = undefined;
    this.failures = 0;
  }

  start() {
    this.timer = setInterval(() => {
      if (this.mode !== 'live' && !document.hidden) this.onChange(null);
    }, 1000);
    void this.connect();
  }

  /** After the token changed: reconnect with it. */
  restart() {
    if (this.abort) this.abort.abort();
    clearTimeout(this.retry);
    void this.connect();
  }

  /** @param {LiveMode} mode */
  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    this.onMode(mode);
  }

  /** @param {number} ms */
  later(ms) {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), ms);
  }

  async connect() {
    const ctrl = new AbortController();
    this.abort = ctrl;
    let res;
    try {
      res = await fetch('/v1/events', { headers: headers({ accept: 'text/event-stream' }), signal: ctrl.signal, cache: 'no-store' });
    } catch {
      if (ctrl.signal.aborted) return;
      this.setMode('offline');
      this.later(Math.min(10_000, 1000 * 2 ** this.failures++));
      return;
    }
    const type = res.headers.get('content-type') ?? '';
    if (!res.ok || !res.body || !type.includes('text/event-stream')) {
      if (res.status === 401) onUnauthorized();
      // No event stream on this node (404) or not now: poll, and look again in a while.
      ctrl.abort();
      this.setMode('polling');
      this.later(res.status === 404 ? 60_000 : 5_000);
      return;
    }
    this.failures = 0;
    this.setMode('live');
    this.onChange(null);
    try {
      await this.read(res.body, ctrl.signal);
    } catch {
      // the stream broke: fall through to polling and reconnect
    }
    if (ctrl.signal.aborted) return;
    this.setMode('polling');
    this.later(2000);
  }

  /**
   * @param {ReadableStream<Uint8Array<ArrayBuffer>>} body
   * @param {AbortSignal} signal
   */
  async read(body, signal) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) return;
      buf += value;
      let cut;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
        const ev = parseEvent(block);
        if (ev) this.onChange(ev);
      }
    }
  }
}

/**
 * One SSE block: its event name and data (JSON when it parses); null for comments and keep-alives.
 * @param {string} block
 * @returns {LiveEvent | null}
 */
function parseEvent(block) {
  let event = 'message';
  /** @type {string[]} */
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}
