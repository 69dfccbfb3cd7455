// @ts-check
// The dashboard: routes `#/` (jobs and nodes) and `#/jobs/{id}` (a job's graph and details),
// refreshed on every server-sent event or once a second, and the cluster header every 2 s.
import {
  ApiError,
  cancelJob,
  getCluster,
  getJob,
  getTask,
  getTaskPage,
  getToken,
  listJobs,
  listNodes,
  listSchedules,
  LiveUpdates,
  setToken,
  whenUnauthorized,
} from './api.js';
import { drawGraph, specsDrawnByTask, structureKey } from './graph.js';
import { MAX_DRAWN_SPECS, totalOf } from './layers.js';
import { h, fill, fmtAgo, fmtDuration, fmtTime, messageOf } from './util.js';
import { badge, clusterBar, countsList, jobsTable, legend, levelPanel, nodesTable, specPanel, taskPanel } from './views.js';
import { schedulesTable } from './schedules.js';

/** @import { ClusterView } from '../types.js' */
/** @import { JobDetail, TaskItem, TaskView } from '../../scheduler/types.js' */
/** @import { LiveEvent, LiveMode } from './api.js' */
/** @import { DrawnGraph, Selection, ShownJob } from './graph.js' */

/** Tasks a spec's panel reads per page. */
const SPEC_PAGE = 200;

/**
 * The tasks the graph draws one by one (layers.js, graph.js): the specs drawn so are read in runs
 * of consecutive tasks, each run one page starting after the task before it, so a big sharded
 * spec drawn as one box is skipped over, never read.
 * @param {JobDetail} job
 * @returns {Promise<Record<string, TaskView>>}
 */
async function drawnTasks(job) {
  const drawn = new Set(specsDrawnByTask(job).map((sp) => sp.name));
  /** @type {{ after: string | null, limit: number }[]} */
  const runs = [];
  /** @type {string | null} */
  let before = null;
  let run = null;
  for (const sp of job.specs) {
    const size = sp.shards ?? 1;
    if (drawn.has(sp.name)) {
      if (run === null) runs.push((run = { after: before, limit: 0 }));
      run.limit += size;
    } else run = null;
    before = sp.shards === null ? sp.name : `${sp.name}[${size - 1}]`;
  }
  /** @type {Record<string, TaskView>} */
  const tasks = {};
  const pages = await Promise.all(runs.map((r) => getTaskPage(job.id, { after: r.after, limit: Math.min(5000, r.limit) })));
  for (const p of pages) for (const { name, ...t } of p.tasks) tasks[name] = t;
  return tasks;
}

/** @typedef {{ name: 'home' } | { name: 'job', id: string }} Route */

/**
 * An element of index.html the page cannot work without.
 * @param {string} id
 */
function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`index.html has no #${id}`);
  return el;
}

const main = byId('main');
const clusterEl = byId('cluster');
const connEl = byId('conn');

/** @type {{ cluster: ClusterView | null, route: Route | null, view: HomePage | JobPage | null }} */
const app = {
  cluster: null,
  route: null,
  view: null,
};

/** @returns {Route} */
function parseRoute() {
  const id = /^#\/jobs\/([^/?]+)/.exec(location.hash)?.[1];
  return id === undefined ? { name: 'home' } : { name: 'job', id: decodeURIComponent(id) };
}

/**
 * @param {Route | null} a
 * @param {Route} b
 */
function sameRoute(a, b) {
  if (a === null || a.name !== b.name) return false;
  return a.name === 'home' || (b.name === 'job' && a.id === b.id);
}

/** @param {string} hash */
function go(hash) {
  location.hash = hash;
}

// ---- token -------------------------------------------------------------------------------

/** @type {HTMLElement | null} */
let tokenDialog = null;
function askToken() {
  if (tokenDialog) return;
  const hadToken = getToken() !== null;
  setToken(null);
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'API token',
    'aria-label': 'API token',
    required: true,
  });
  const form = h(
    'form',
    { class: 'dialog', id: 'token-form' },
    h('h2', null, 'This node needs an API token'),
    h(
      'p',
      { class: 'muted' },
      'It was started with ',
      h('code', null, '--api-token'),
      '. The token stays in this tab only (session storage) and is sent as ',
      h('code', null, 'Authorization: Bearer'),
      ' with every API call.',
    ),
    hadToken ? h('p', { class: 'error' }, 'The token this tab had was refused.') : null,
    input,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Continue')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (!v) return;
    setToken(v);
    tokenDialog?.remove();
    tokenDialog = null;
    live.restart();
    void refreshCluster();
    render(true);
  });
  tokenDialog = h('div', { class: 'overlay' }, form);
  document.body.append(tokenDialog);
  input.focus();
}
whenUnauthorized(askToken);

// ---- header ------------------------------------------------------------------------------

async function refreshCluster() {
  try {
    app.cluster = await getCluster();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    app.cluster = null;
  }
  fill(clusterEl, clusterBar(app.cluster));
}

/** @param {LiveMode} mode */
function showMode(mode) {
  connEl.dataset.mode = mode;
  const label = connEl.querySelector('.label');
  if (label) label.textContent = mode === 'live' ? 'live' : mode === 'polling' ? 'polling · 1 s' : 'offline';
  connEl.title =
    mode === 'live'
      ? 'Updates pushed by the node (GET /v1/events)'
      : mode === 'polling'
        ? 'This node has no event stream: the page asks every second'
        : 'Cannot reach this node; retrying';
}

// ---- views -------------------------------------------------------------------------------

/** @param {unknown} err */
function errorBox(err) {
  return h('div', { class: 'errorbox' }, messageOf(err));
}

class HomePage {
  constructor() {
    this.jobsBody = h('div', { class: 'card-body flush' }, h('p', { class: 'muted pad' }, 'Loading jobs…'));
    this.nodesBody = h('div', { class: 'card-body flush' }, h('p', { class: 'muted pad' }, 'Loading nodes…'));
    this.jobsCount = h('span', { class: 'count' });
    this.nodesCount = h('span', { class: 'count' });
    this.lastNodes = 0;
    // Schedules (schedules.js): the card shows once the node answers GET /v1/schedules.
    this.schedulesBody = h('div', { class: 'card-body flush' });
    this.schedulesCount = h('span', { class: 'count' });
    this.schedulesCard = h(
      'section',
      { class: 'card', id: 'schedules', hidden: true },
      h('div', { class: 'card-head' }, h('h1', null, 'Schedules ', this.schedulesCount)),
      this.schedulesBody,
    );
    fill(
      main,
      h(
        'section',
        { class: 'card', id: 'jobs' },
        h('div', { class: 'card-head' }, h('h1', null, 'Jobs ', this.jobsCount), legend(false)),
        this.jobsBody,
      ),
      this.schedulesCard,
      h(
        'section',
        { class: 'card', id: 'nodes' },
        h('div', { class: 'card-head' }, h('h1', null, 'Nodes ', this.nodesCount)),
        this.nodesBody,
      ),
    );
    document.title = 'Jobs · meshrun';
  }

  async refresh() {
    const wantNodes = Date.now() - this.lastNodes > 1900;
    const [jobs, nodes, schedules] = await Promise.allSettled([listJobs(), wantNodes ? listNodes() : Promise.resolve([]), listSchedules()]);
    if (this !== app.view) return;
    if (schedules.status === 'fulfilled') {
      this.schedulesCard.hidden = false;
      this.schedulesCount.textContent = String(schedules.value.length);
      fill(this.schedulesBody, schedulesTable(schedules.value));
    }
    if (jobs.status === 'fulfilled') {
      const list = [...jobs.value].sort((a, b) => b.submittedAt - a.submittedAt);
      this.jobsCount.textContent = String(list.length);
      fill(this.jobsBody, jobsTable(list, go));
    } else fill(this.jobsBody, errorBox(jobs.reason));
    if (!wantNodes) return;
    this.lastNodes = Date.now();
    if (nodes.status === 'fulfilled') {
      const list = nodes.value;
      fill(this.nodesBody, nodesTable(list, app.cluster));
      this.nodesCount.textContent = String(list.length);
    } else fill(this.nodesBody, errorBox(nodes.reason));
  }
}

const MIN_ZOOM = 0.5;
const MAX_ZOOM = 1.5;
const ZOOMS = [MIN_ZOOM, 0.67, 0.8, 1, 1.25, MAX_ZOOM];
/** The stylesheet's phone layout (style.css, the last @media rule). */
const NARROW = window.matchMedia('(max-width: 720px)');

class JobPage {
  /** @param {string} id */
  constructor(id) {
    this.id = id;
    /** @type {ShownJob | null} */
    this.job = null;
    /** The tasks of the spec whose panel is open, as read so far. @type {{ spec: string, items: TaskItem[], next: string | null } | null} */
    this.specPage = null;
    /** The task whose panel is open when the graph does not draw it (read alone). @type {TaskItem | null} */
    this.picked = null;
    /** @type {DrawnGraph | null} */
    this.graph = null;
    /** @type {string | null} */
    this.key = null;
    /** @type {Selection | null} */
    this.selection = null;
    /** @type {string | null} */
    this.panelKey = null;
    /** @type {number | null} null: fit to width */
    this.zoom = null;
    this.head = h('section', { class: 'jobhead' }, h('p', { class: 'muted' }, 'Loading job…'));
    this.wrap = h('div', { class: 'graph-wrap' });
    this.panel = h('aside', { class: 'card panel', 'aria-live': 'polite' });
    this.zoomLabel = h('span', { class: 'zoom-label' }, 'fit');
    /** @type {(label: string, title: string, fn: () => void) => HTMLButtonElement} */
    const zoomBtn = (label, title, fn) => h('button', { class: 'icon', title, 'aria-label': title, onclick: fn }, label);
    const tools = h(
      'div',
      { class: 'tools' },
      zoomBtn('−', 'zoom out', () => this.step(-1)),
      this.zoomLabel,
      zoomBtn('+', 'zoom in', () => this.step(1)),
      h('button', { class: 'link small', onclick: () => this.setZoom(null) }, 'fit'),
    );
    this.wrap.addEventListener('click', () => this.select(null));
    fill(
      main,
      h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, '← All jobs')),
      this.head,
      h(
        'div',
        { class: 'jobgrid' },
        h('section', { class: 'card graphcard' }, h('div', { class: 'card-head' }, legend(), tools), this.wrap),
        this.panel,
      ),
    );
    this.onResize = () => this.fit();
    window.addEventListener('resize', this.onResize);
    document.title = `Job ${id} · meshrun`;
  }

  dispose() {
    window.removeEventListener('resize', this.onResize);
  }

  /**
   * To the next zoom stop above or below the scale shown, at most to the last one.
   * @param {1 | -1} dir
   */
  step(dir) {
    const cur = this.zoom ?? this.fitScale();
    const up = ZOOMS.find((z) => z > cur + 1e-6) ?? MAX_ZOOM;
    const down = [...ZOOMS].reverse().find((z) => z < cur - 1e-6) ?? MIN_ZOOM;
    this.setZoom(dir > 0 ? up : down);
  }

  /** @param {number | null} z */
  setZoom(z) {
    this.zoom = z;
    this.fit();
  }

  fitScale() {
    if (!this.graph) return 1;
    const avail = Math.max(200, this.wrap.clientWidth - 2);
    return Math.max(0.5, Math.min(1, avail / this.graph.width));
  }

  fit() {
    if (!this.graph) return;
    const scale = this.zoom ?? this.fitScale();
    this.graph.svg.setAttribute('width', String(Math.round(this.graph.width * scale)));
    this.graph.svg.setAttribute('height', String(Math.round(this.graph.height * scale)));
    this.zoomLabel.textContent = `${Math.round(scale * 100)}%`;
  }

  async refresh() {
    /** @type {ShownJob} */
    let job;
    try {
      const detail = await getJob(this.id);
      job = { ...detail, tasks: await drawnTasks(detail) };
      await this.rereadPanel(job);
    } catch (err) {
      if (this !== app.view) return;
      if (err instanceof ApiError && err.status === 404) {
        fill(this.head, h('h1', null, 'Job not found'), h('p', { class: 'muted' }, err.message));
        this.wrap.replaceChildren();
        this.panel.replaceChildren();
        return;
      }
      if (!this.job) fill(this.head, errorBox(err));
      return;
    }
    if (this !== app.view) return;
    this.job = job;
    this.renderHead(job);
    const key = structureKey(job);
    let graph = this.graph;
    if (key !== this.key || graph === null) {
      this.key = key;
      // The kind of screen, not the room the graph has right now: see graph.js bestLayout.
      graph = drawGraph(job, (sel) => void this.open(sel), { narrow: NARROW.matches });
      this.graph = graph;
      fill(this.wrap, graph.svg);
      this.fit();
      graph.select(this.selection);
    }
    graph.update(job);
    graph.svg.dataset.ready = 'true';
    this.renderPanel();
  }

  /**
   * Reads again what the open panel shows that the graph does not: the spec's pages, or the task.
   * @param {ShownJob} j
   */
  async rereadPanel(j) {
    const sel = this.selection;
    if (sel?.task !== undefined && !(sel.task in j.tasks)) this.picked = await getTask(this.id, sel.task);
    const sp = this.specPage;
    if (sp !== null && sel?.spec === sp.spec) {
      const page = await getTaskPage(this.id, { spec: sp.spec, limit: Math.min(5000, Math.max(SPEC_PAGE, sp.items.length)) });
      this.specPage = { spec: sp.spec, items: [...page.tasks], next: page.next };
    }
  }

  /**
   * Opens the panel of `sel`, reading first what it shows that the page has not read.
   * @param {Selection | null} sel
   */
  async open(sel) {
    this.select(sel);
    const j = this.job;
    if (!j || sel === null) return;
    try {
      if (sel.task !== undefined && !(sel.task in j.tasks)) this.picked = await getTask(this.id, sel.task);
      else if (sel.spec !== undefined && !this.graph?.bands?.has(sel.spec)) {
        const page = await getTaskPage(this.id, { spec: sel.spec, limit: SPEC_PAGE });
        this.specPage = { spec: sel.spec, items: [...page.tasks], next: page.next };
      }
    } catch {
      return; // the next refresh tries again
    }
    if (this.selection === sel) {
      this.panelKey = null;
      this.renderPanel();
    }
  }

  /** The next page of the open spec panel. */
  async more() {
    const sp = this.specPage;
    if (sp === null || sp.next === null) return;
    const page = await getTaskPage(this.id, { spec: sp.spec, after: sp.next, limit: SPEC_PAGE });
    if (this.specPage !== sp) return;
    this.specPage = { spec: sp.spec, items: [...sp.items, ...page.tasks], next: page.next };
    this.panelKey = null;
    this.renderPanel();
  }

  /** @param {ShownJob} j */
  renderHead(j) {
    const n = totalOf(j.counts);
    const end = j.finishedAt ?? (j.state === 'running' ? Date.now() : null);
    const cancel =
      j.state === 'running'
        ? h(
            'button',
            {
              class: 'button danger',
              onclick: async () => {
                if (!confirm(`Cancel job ${j.name} (${j.id})? Running tasks are stopped and the rest skipped.`)) return;
                try {
                  await cancelJob(j.id);
                } catch (err) {
                  alert(messageOf(err));
                }
                render(false);
              },
            },
            'Cancel job',
          )
        : null;
    fill(
      this.head,
      h('div', { class: 'titlerow' }, h('h1', null, j.name), badge(j.state), h('span', { class: 'spacer' }), cancel),
      h(
        'div',
        { class: 'meta' },
        h('span', null, h('span', { class: 'k' }, 'id '), h('span', { class: 'mono' }, j.id)),
        h('span', { title: fmtTime(j.submittedAt) }, h('span', { class: 'k' }, 'submitted '), fmtAgo(j.submittedAt)),
        h(
          'span',
          null,
          h('span', { class: 'k' }, j.state === 'running' ? 'running for ' : 'took '),
          end === null ? '—' : fmtDuration(end - j.submittedAt),
        ),
        h(
          'span',
          null,
          h('span', { class: 'k' }, 'tasks '),
          `${j.counts.succeeded}/${n} succeeded`,
          j.counts.failed ? `, ${j.counts.failed} failed` : '',
          j.counts.skipped ? `, ${j.counts.skipped} skipped` : '',
        ),
      ),
    );
    document.title = `${j.name} · ${j.state} · meshrun`;
  }

  /** @param {Selection | null} sel */
  select(sel) {
    this.selection = sel;
    this.panelKey = null;
    if (sel?.spec !== this.specPage?.spec) this.specPage = null;
    if (sel?.task !== this.picked?.name) this.picked = null;
    if (this.graph) this.graph.select(sel);
    this.renderPanel();
  }

  renderPanel() {
    const j = this.job;
    if (!j) return;
    const sel = this.selection;
    const close = () => this.select(null);
    const name = sel?.task;
    const t = name === undefined ? undefined : (j.tasks[name] ?? (this.picked?.name === name ? this.picked : undefined));
    if (sel && name !== undefined && t) {
      const key = `t|${name}|${JSON.stringify(t)}|${t.state === 'running' ? Math.floor(Date.now() / 1000) : ''}`;
      if (key === this.panelKey) return;
      this.panelKey = key;
      const from = sel.from;
      const back = from ? Object.assign(() => void this.open({ spec: from }), { label: `all tasks of ${from}` }) : null;
      fill(this.panel, taskPanel(j, name, t, app.cluster, { close, back }));
      this.panel.classList.add('open');
      return;
    }
    const members = sel?.spec === undefined ? undefined : this.graph?.bands?.get(sel.spec);
    if (sel?.spec !== undefined && members !== undefined) {
      const byName = new Map(j.specs.map((sp) => [sp.name, sp]));
      const specs = members.flatMap((m) => byName.get(m) ?? []);
      const key = `l|${sel.spec}|${JSON.stringify(specs.map((sp) => sp.counts))}`;
      if (key === this.panelKey) return;
      this.panelKey = key;
      const level = sel.spec;
      fill(this.panel, levelPanel(level, specs, { close, pick: (spec) => void this.open({ spec, from: level }) }));
      this.panel.classList.add('open');
      return;
    }
    const spec = sel?.spec === undefined ? undefined : j.specs.find((sp) => sp.name === sel.spec);
    if (sel && spec) {
      const page = this.specPage?.spec === spec.name ? this.specPage : null;
      const key = `s|${spec.name}|${JSON.stringify(spec.counts)}|${page ? page.items.map((x) => x.state).join(',') : 'loading'}|${page?.next}`;
      if (key === this.panelKey) return;
      this.panelKey = key;
      const from = sel.from;
      const back = from ? Object.assign(() => void this.open({ spec: from }), { label: `all specs of ${from}` }) : null;
      fill(
        this.panel,
        specPanel(spec, page, {
          close,
          back,
          more: () => void this.more(),
          pick: (task) => void this.open({ task, from: spec.name }),
        }),
      );
      this.panel.classList.add('open');
      return;
    }
    const key = `j|${JSON.stringify(j.counts)}`;
    if (key === this.panelKey) return;
    this.panelKey = key;
    this.panel.classList.remove('open');
    fill(
      this.panel,
      h(
        'div',
        { class: 'panel-body' },
        h('h2', null, 'Tasks'),
        countsList(j.counts),
        h('p', { class: 'hint' }, 'Click a task in the graph to see its attempts, node, exit code, output and log.'),
      ),
    );
  }
}

// ---- refresh loop ------------------------------------------------------------------------

let inFlight = false;
let again = false;
let lastRun = 0;
/** @type {ReturnType<typeof setTimeout> | null} */
let pending = null;

/**
 * Refreshes the current view now, or right after the refresh in flight (at most 4 a second; a job
 * drawn by level, every 2 s).
 * @param {boolean} force also when the last refresh was just now; and look at the route again
 */
function render(force) {
  if (force) {
    const r = parseRoute();
    if (!sameRoute(app.route, r)) {
      if (app.view instanceof JobPage) app.view.dispose();
      app.route = r;
      app.view = r.name === 'job' ? new JobPage(r.id) : new HomePage();
      window.scrollTo(0, 0);
    }
  }
  const view = app.view;
  if (view === null) return;
  if (inFlight) {
    again = true;
    return;
  }
  // A big job's answer takes its node tens of ms to build and send: read it at most every 2 s.
  const big = view instanceof JobPage && view.job !== null && view.job.specs.length > MAX_DRAWN_SPECS;
  const wait = Math.max(0, lastRun + (big ? 2000 : 250) - Date.now());
  if (wait > 0 && !force) {
    if (!pending)
      pending = setTimeout(() => {
        pending = null;
        render(false);
      }, wait);
    return;
  }
  inFlight = true;
  lastRun = Date.now();
  view
    .refresh()
    .catch(() => {})
    .finally(() => {
      inFlight = false;
      if (again) {
        again = false;
        render(false);
      }
    });
}

/**
 * Events about other jobs do not change the job shown.
 * @param {LiveEvent | null} ev
 */
function relevant(ev) {
  if (!ev || !app.route || app.route.name !== 'job') return true;
  const job = typeof ev.data === 'object' && ev.data !== null && 'job' in ev.data ? ev.data.job : undefined;
  return typeof job !== 'string' || job === app.route.id;
}

const live = new LiveUpdates((ev) => {
  if (relevant(ev)) render(false);
}, showMode);
window.addEventListener('hashchange', () => render(true));
setInterval(() => {
  if (!document.hidden) void refreshCluster();
}, 2000);
void refreshCluster();
render(true);
live.start();

// Keep relative times ("12 s ago") and running durations current between updates.
setInterval(() => {
  if (!document.hidden && live.mode === 'live') render(false);
}, 5000);
