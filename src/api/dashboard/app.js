// The dashboard: routes `#/` (jobs and nodes) and `#/jobs/{id}` (a job's graph and details),
// refreshed on every server-sent event or once a second, and the cluster header every 2 s.
import { api, ApiError, getToken, LiveUpdates, setToken, whenUnauthorized } from './api.js';
import { drawGraph, countStates, structureKey, taskNames } from './graph.js';
import { h, fill, fmtAgo, fmtDuration, fmtTime } from './util.js';
import { badge, clusterBar, countsList, jobsTable, legend, nodesTable, specPanel, taskPanel } from './views.js';

const main = document.getElementById('main');
const clusterEl = document.getElementById('cluster');
const connEl = document.getElementById('conn');

const app = {
  cluster: null,
  route: null,
  view: null,
  needToken: false,
};

function parseRoute() {
  const m = /^#\/jobs\/([^/?]+)/.exec(location.hash);
  return m ? { name: 'job', id: decodeURIComponent(m[1]) } : { name: 'home' };
}

function go(hash) {
  location.hash = hash;
}

// ---- token -------------------------------------------------------------------------------

let tokenDialog = null;
function askToken() {
  if (tokenDialog) return;
  const hadToken = getToken() !== null;
  setToken(null);
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', placeholder: 'API token', 'aria-label': 'API token', required: true });
  const form = h(
    'form',
    { class: 'dialog', id: 'token-form' },
    h('h2', null, 'This node needs an API token'),
    h('p', { class: 'muted' }, 'It was started with ', h('code', null, '--api-token'), '. The token stays in this tab only (session storage) and is sent as ', h('code', null, 'Authorization: Bearer'), ' with every API call.'),
    hadToken ? h('p', { class: 'error' }, 'The token this tab had was refused.') : null,
    input,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Continue')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    if (!v) return;
    setToken(v);
    tokenDialog.remove();
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
    app.cluster = await api('/v1/cluster');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    app.cluster = null;
  }
  fill(clusterEl, clusterBar(app.cluster));
}

function showMode(mode) {
  connEl.dataset.mode = mode;
  connEl.querySelector('.label').textContent = mode === 'live' ? 'live' : mode === 'polling' ? 'polling · 1 s' : 'offline';
  connEl.title = mode === 'live' ? 'Updates pushed by the node (GET /v1/events)' : mode === 'polling' ? 'This node has no event stream: the page asks every second' : 'Cannot reach this node; retrying';
}

// ---- views -------------------------------------------------------------------------------

function errorBox(err) {
  const msg = err instanceof Error ? err.message : String(err);
  return h('div', { class: 'errorbox' }, msg);
}

class HomeView {
  constructor() {
    this.jobsBody = h('div', { class: 'card-body flush' }, h('p', { class: 'muted pad' }, 'Loading jobs…'));
    this.nodesBody = h('div', { class: 'card-body flush' }, h('p', { class: 'muted pad' }, 'Loading nodes…'));
    this.jobsCount = h('span', { class: 'count' });
    this.nodesCount = h('span', { class: 'count' });
    this.lastNodes = 0;
    fill(
      main,
      h('section', { class: 'card', id: 'jobs' }, h('div', { class: 'card-head' }, h('h1', null, 'Jobs ', this.jobsCount), legend(false)), this.jobsBody),
      h('section', { class: 'card', id: 'nodes' }, h('div', { class: 'card-head' }, h('h1', null, 'Nodes ', this.nodesCount)), this.nodesBody),
    );
    document.title = 'Jobs · meshrun';
  }

  async refresh() {
    const wantNodes = Date.now() - this.lastNodes > 1900;
    const [jobs, nodes] = await Promise.allSettled([api('/v1/jobs'), wantNodes ? api('/v1/nodes') : Promise.resolve(undefined)]);
    if (this !== app.view) return;
    if (jobs.status === 'fulfilled') {
      const list = [...jobs.value.jobs].sort((a, b) => b.submittedAt - a.submittedAt);
      this.jobsCount.textContent = String(list.length);
      fill(this.jobsBody, jobsTable(list, go));
    } else fill(this.jobsBody, errorBox(jobs.reason));
    if (!wantNodes) return;
    this.lastNodes = Date.now();
    if (nodes.status === 'fulfilled') {
      const list = nodes.value.nodes;
      fill(this.nodesBody, nodesTable(list, app.cluster));
      this.nodesCount.textContent = String(list.length);
    } else fill(this.nodesBody, errorBox(nodes.reason));
  }
}

const ZOOMS = [0.5, 0.67, 0.8, 1, 1.25, 1.5];
/** The stylesheet's phone layout (style.css, the last @media rule). */
const NARROW = window.matchMedia('(max-width: 720px)');

class JobView {
  constructor(id) {
    this.id = id;
    this.job = null;
    this.graph = null;
    this.key = null;
    this.selection = null;
    this.panelKey = null;
    this.zoom = null; // null: fit to width
    this.head = h('section', { class: 'jobhead' }, h('p', { class: 'muted' }, 'Loading job…'));
    this.wrap = h('div', { class: 'graph-wrap' });
    this.panel = h('aside', { class: 'card panel', 'aria-live': 'polite' });
    this.zoomLabel = h('span', { class: 'zoom-label' }, 'fit');
    const zoomBtn = (label, title, fn) => h('button', { class: 'icon', title, 'aria-label': title, onclick: fn }, label);
    const tools = h('div', { class: 'tools' }, zoomBtn('−', 'zoom out', () => this.step(-1)), this.zoomLabel, zoomBtn('+', 'zoom in', () => this.step(1)), h('button', { class: 'link small', onclick: () => this.setZoom(null) }, 'fit'));
    this.wrap.addEventListener('click', () => this.select(null));
    fill(
      main,
      h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, '← All jobs')),
      this.head,
      h('div', { class: 'jobgrid' }, h('section', { class: 'card graphcard' }, h('div', { class: 'card-head' }, legend(), tools), this.wrap), this.panel),
    );
    this.onResize = () => this.fit();
    window.addEventListener('resize', this.onResize);
    document.title = `Job ${id} · meshrun`;
  }

  dispose() {
    window.removeEventListener('resize', this.onResize);
  }

  step(dir) {
    const cur = this.zoom ?? this.fitScale();
    let i = ZOOMS.findIndex((z) => z >= cur - 1e-6);
    if (i < 0) i = ZOOMS.length - 1;
    if (dir > 0 && ZOOMS[i] <= cur + 1e-6) i++;
    if (dir < 0) i--;
    this.setZoom(ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, i))]);
  }

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
    let job;
    try {
      job = await api(`/v1/jobs/${encodeURIComponent(this.id)}`);
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
    this.renderHead();
    const key = structureKey(job);
    if (key !== this.key) {
      this.key = key;
      // The kind of screen, not the room the graph has right now: see graph.js bestLayout.
      this.graph = drawGraph(job, (sel) => this.select(sel), { narrow: NARROW.matches });
      fill(this.wrap, this.graph.svg);
      this.fit();
      this.graph.select(this.selection);
    }
    this.graph.update(job);
    this.graph.svg.dataset.ready = 'true';
    this.renderPanel();
  }

  renderHead() {
    const j = this.job;
    const n = Object.keys(j.tasks).length;
    const end = j.finishedAt ?? (j.state === 'running' ? Date.now() : null);
    const cancel =
      j.state === 'running'
        ? h('button', {
            class: 'button danger',
            onclick: async () => {
              if (!confirm(`Cancel job ${j.name} (${j.id})? Running tasks are stopped and the rest skipped.`)) return;
              try {
                await api(`/v1/jobs/${encodeURIComponent(j.id)}/cancel`, { method: 'POST', body: {} });
              } catch (err) {
                alert(err.message);
              }
              render(false);
            },
          }, 'Cancel job')
        : null;
    fill(
      this.head,
      h('div', { class: 'titlerow' }, h('h1', null, j.name), badge(j.state), h('span', { class: 'spacer' }), cancel),
      h(
        'div',
        { class: 'meta' },
        h('span', null, h('span', { class: 'k' }, 'id '), h('span', { class: 'mono' }, j.id)),
        h('span', { title: fmtTime(j.submittedAt) }, h('span', { class: 'k' }, 'submitted '), fmtAgo(j.submittedAt)),
        h('span', null, h('span', { class: 'k' }, j.state === 'running' ? 'running for ' : 'took '), end === null ? '—' : fmtDuration(end - j.submittedAt)),
        h('span', null, h('span', { class: 'k' }, 'tasks '), `${j.counts.succeeded}/${n} succeeded`, j.counts.failed ? `, ${j.counts.failed} failed` : '', j.counts.skipped ? `, ${j.counts.skipped} skipped` : ''),
      ),
    );
    document.title = `${j.name} · ${j.state} · meshrun`;
  }

  select(sel) {
    this.selection = sel;
    this.panelKey = null;
    if (this.graph) this.graph.select(sel);
    this.renderPanel();
  }

  renderPanel() {
    const j = this.job;
    if (!j) return;
    const sel = this.selection;
    const close = () => this.select(null);
    if (sel && sel.task !== undefined && j.tasks[sel.task]) {
      const t = j.tasks[sel.task];
      const key = `t|${sel.task}|${JSON.stringify(t)}|${t.state === 'running' ? Math.floor(Date.now() / 1000) : ''}`;
      if (key === this.panelKey) return;
      this.panelKey = key;
      const spec = sel.from;
      const back = spec ? Object.assign(() => this.select({ spec }), { label: `all shards of ${spec}` }) : null;
      fill(this.panel, taskPanel(j, sel.task, t, app.cluster, { close, back }));
      this.panel.classList.add('open');
      return;
    }
    if (sel && sel.spec !== undefined && this.graph && this.graph.specByName.has(sel.spec)) {
      const spec = this.graph.specByName.get(sel.spec);
      const names = taskNames(spec);
      const key = `s|${sel.spec}|${names.map((n) => j.tasks[n]?.state).join(',')}`;
      if (key === this.panelKey) return;
      this.panelKey = key;
      fill(this.panel, specPanel(j, spec, names, countStates(j, names), { close, pick: (task) => this.select({ task, from: spec.name }) }));
      this.panel.classList.add('open');
      return;
    }
    const key = `j|${JSON.stringify(j.counts)}`;
    if (key === this.panelKey) return;
    this.panelKey = key;
    this.panel.classList.remove('open');
    fill(
      this.panel,
      h('div', { class: 'panel-body' }, h('h2', null, 'Tasks'), countsList(j.counts), h('p', { class: 'hint' }, 'Click a task in the graph to see its attempts, node, exit code, output and log.')),
    );
  }
}

// ---- refresh loop ------------------------------------------------------------------------

let inFlight = false;
let again = false;
let lastRun = 0;
let pending = null;

/** Refreshes the current view now, or right after the refresh in flight (at most 4 a second). */
function render(force) {
  if (force) {
    const r = parseRoute();
    if (!app.route || r.name !== app.route.name || r.id !== app.route.id) {
      if (app.view && app.view.dispose) app.view.dispose();
      app.route = r;
      app.view = r.name === 'job' ? new JobView(r.id) : new HomeView();
      window.scrollTo(0, 0);
    }
  }
  if (inFlight) {
    again = true;
    return;
  }
  const wait = Math.max(0, lastRun + 250 - Date.now());
  if (wait > 0 && !force) {
    if (!pending) pending = setTimeout(() => { pending = null; render(false); }, wait);
    return;
  }
  inFlight = true;
  lastRun = Date.now();
  app.view
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

/** Events about other jobs do not change the job shown. */
function relevant(ev) {
  if (!ev || !app.route || app.route.name !== 'job') return true;
  const job = ev.data && typeof ev.data === 'object' ? ev.data.job : undefined;
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


