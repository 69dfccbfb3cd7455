// @ts-check
// The page's pieces: cluster header, jobs table, nodes table, legend, task and shard panels.
import { h, BAR_STATES, fmtAgo, fmtDuration, fmtInt, fmtTime, shortId, TASK_STATES } from './util.js';
import { logPath, getToken, openLog } from './api.js';

/** @import { ClusterView, NodeInfo } from '../types.js' */
/** @import { AttemptView, JobState, JobSummary, JobView, SpecSummary, TaskItem, TaskState, TaskView } from '../../scheduler/types.js' */
/** @import { Child, Counts } from './util.js' */
/**
 * A "back" action with the words of its link.
 * @typedef {(() => void) & { label: string }} BackLink
 */

/** @param {TaskState | JobState | 'paused'} state (a paused schedule in schedules.js) */
export function badge(state) {
  return h('span', { class: `badge ${state}`, dataset: { state } }, state);
}

/**
 * @param {string} label
 * @param {string} value
 * @param {string} [title]
 */
function stat(label, value, title) {
  return h('div', { class: 'stat', title }, h('span', { class: 'k' }, label), h('span', { class: 'v' }, value));
}

/** @param {ClusterView | null} c */
export function clusterBar(c) {
  if (!c) return [stat('cluster', 'unreachable')];
  const leader = c.leader === null ? 'none (election)' : c.leader === c.self ? `${shortId(c.leader)} (this node)` : shortId(c.leader);
  return [
    stat('leader', leader, c.leader ?? 'no leader known'),
    stat('this node', `${shortId(c.self)} · ${c.role}`, c.self),
    stat('term', fmtInt(c.term)),
    stat(
      'commit / applied',
      `${fmtInt(c.commit)} / ${fmtInt(c.applied)}`,
      c.commit - c.applied > 0 ? `${c.commit - c.applied} entries to apply` : 'all committed entries applied',
    ),
    stat('voters', String(c.voters.length), c.voters.join('\n')),
    stat('learners', String(c.learners.length), c.learners.join('\n') || 'none'),
  ];
}

/**
 * A bar of a job's task counts, in the graph's colours.
 * @param {Counts} counts
 * @param {number} total
 */
export function progressBar(counts, total) {
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(total) });
  const done = counts.succeeded + counts.failed + counts.skipped;
  bar.setAttribute('aria-valuenow', String(done));
  for (const k of BAR_STATES) {
    if (!counts[k]) continue;
    const seg = h('span', { class: `seg ${k}`, title: `${counts[k]} ${k}` });
    seg.style.width = `${(100 * counts[k]) / Math.max(1, total)}%`;
    bar.append(seg);
  }
  return bar;
}

/** @param {Counts} counts */
function total(counts) {
  return TASK_STATES.reduce((a, k) => a + (counts[k] ?? 0), 0);
}

/**
 * @param {readonly JobSummary[]} jobs
 * @param {(hash: string) => void} go
 */
export function jobsTable(jobs, go) {
  if (jobs.length === 0) {
    return h(
      'div',
      { class: 'empty' },
      h('p', null, 'No jobs on this cluster yet.'),
      h('p', { class: 'muted' }, 'Submit one with ', h('code', null, 'meshrun submit dag.yaml'), '.'),
    );
  }
  const now = Date.now();
  const rows = jobs.map((j) => {
    const n = total(j.counts);
    const done = j.counts.succeeded + j.counts.failed + j.counts.skipped;
    const end = j.finishedAt ?? (j.state === 'running' ? now : null);
    const tr = h(
      'tr',
      { class: 'rowlink', dataset: { job: j.id, state: j.state } },
      h(
        'td',
        null,
        h('a', { href: `#/jobs/${encodeURIComponent(j.id)}`, class: 'jobname' }, j.name),
        h('div', { class: 'mono small muted' }, j.id),
      ),
      h('td', null, badge(j.state)),
      h(
        'td',
        { class: 'progress-cell' },
        progressBar(j.counts, n),
        h(
          'div',
          { class: 'small muted' },
          `${fmtInt(done)} of ${fmtInt(n)} done`,
          j.counts.running ? ` · ${fmtInt(j.counts.running)} running` : '',
          j.counts.failed ? ` · ${fmtInt(j.counts.failed)} failed` : '',
        ),
      ),
      h('td', { class: 'nowrap', title: fmtTime(j.submittedAt) }, fmtAgo(j.submittedAt, now)),
      h('td', { class: 'nowrap num' }, end === null ? '—' : fmtDuration(end - j.submittedAt)),
    );
    tr.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('a')) return;
      go(`#/jobs/${encodeURIComponent(j.id)}`);
    });
    return tr;
  });
  return h(
    'table',
    { class: 'table jobs' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', null, 'Job'),
        h('th', null, 'State'),
        h('th', { class: 'wide' }, 'Progress'),
        h('th', null, 'Submitted'),
        h('th', { class: 'num' }, 'Duration'),
      ),
    ),
    h('tbody', null, rows),
  );
}

/**
 * @param {string} id
 * @param {ClusterView | null} c
 */
function nodeRole(id, c) {
  if (!c) return '—';
  if (c.leader === id) return 'leader';
  if (c.voters.includes(id)) return 'follower';
  if (c.learners.includes(id)) return 'learner';
  return 'worker';
}

/**
 * `nodes` from GET /v1/nodes.
 * @param {readonly NodeInfo[]} list
 * @param {ClusterView | null} c
 */
export function nodesTable(list, c) {
  if (list.length === 0) return h('div', { class: 'empty' }, h('p', { class: 'muted' }, 'No nodes known yet.'));
  const now = Date.now();
  const rows = list.map((n) => {
    const role = n.role ?? nodeRole(n.id, c);

    const slots = n.slots;
    const used = n.used ?? 0;
    const load =
      slots === null
        ? h('span', { class: 'muted' }, '—')
        : h(
            'div',
            { class: 'load' },
            meter(used, slots),
            h('span', { class: 'small' }, `${used}/${slots} slots`, n.running !== null ? ` · ${n.running} running` : ''),
          );
    const seen = n.lastSeen ?? (typeof n.leaseUntil === 'number' && typeof n.leaseMs === 'number' ? n.leaseUntil - n.leaseMs : null);
    const expired = typeof n.leaseUntil === 'number' && n.leaseUntil < now;
    return h(
      'tr',
      { dataset: { node: n.id } },
      h(
        'td',
        null,
        // Its --name when it gossiped one, the short id beside it; the full id on hover.
        n.name
          ? [h('span', { title: n.id }, n.name), ' ', h('span', { class: 'mono muted small', title: n.id }, shortId(n.id))]
          : h('span', { class: 'mono', title: n.id }, shortId(n.id)),
        n.self === true || (c && n.id === c.self) ? h('span', { class: 'tag' }, 'this node') : null,
        n.state === 'down'
          ? h('span', { class: 'tag warn', title: n.downSince ? `last heard ${fmtTime(n.downSince)}` : '' }, 'down')
          : null,
      ),
      h('td', null, h('span', { class: `role ${role}` }, role)),
      h('td', null, load),
      h('td', { class: 'num mono' }, typeof n.applied === 'number' ? fmtInt(n.applied) : '—'),
      h(
        'td',
        { class: 'nowrap', title: seen === null ? '' : fmtTime(seen) },
        seen === null ? '—' : fmtAgo(seen, now),
        expired ? h('span', { class: 'tag warn' }, 'lease expired') : null,
      ),
    );
  });
  return h(
    'div',
    null,
    h(
      'table',
      { class: 'table nodes' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, 'Node'),
          h('th', null, 'Role'),
          h('th', { class: 'wide' }, 'Load'),
          h('th', { class: 'num' }, 'Applied'),
          h('th', null, 'Last seen'),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
}

/**
 * A node's slots in use as a small bar.
 * @param {number} used
 * @param {number} slots
 */
function meter(used, slots) {
  const fillEl = h('span', { class: used >= slots ? 'full' : '' });
  fillEl.style.width = `${(100 * Math.min(used, slots)) / Math.max(1, slots)}%`;
  return h('div', { class: 'meter' }, fillEl);
}

export function legend(withGroups = true) {
  return h(
    'div',
    { class: 'legend', 'aria-label': 'legend' },
    TASK_STATES.map((k) => h('span', { class: 'item' }, h('span', { class: `swatch ${k}` }), k)),
    withGroups
      ? h(
          'span',
          { class: 'item', title: `a task with more than 8 shards is one box with its counts per state` },
          h('span', { class: 'swatch group' }),
          'many shards',
        )
      : null,
  );
}

/**
 * @param {string} label
 * @param {Child} value
 * @param {string} [title]
 */
function row(label, value, title) {
  return [h('dt', null, label), h('dd', { title }, value)];
}

/**
 * @param {string} label
 * @param {string} text
 */
function tail(label, text) {
  if (!text)
    return h('div', { class: 'tail empty-tail' }, h('div', { class: 'tail-head' }, label), h('div', { class: 'muted small' }, 'no output'));
  return h(
    'div',
    { class: 'tail' },
    h('div', { class: 'tail-head' }, label, h('span', { class: 'muted' }, ' · last 4 KiB')),
    h('pre', null, text),
  );
}

/**
 * @param {JobView} job
 * @param {string} name
 * @param {TaskView} t
 * @param {ClusterView | null} cluster
 * @param {{ close: () => void, back: BackLink | null }} actions
 */
export function taskPanel(job, name, t, cluster, { close, back }) {
  const now = Date.now();
  const link = h('a', { href: logPath(job.id, name), target: '_blank', rel: 'noopener', class: 'button' }, 'Open full log ↗');
  link.addEventListener('click', (ev) => {
    if (!getToken()) return;
    ev.preventDefault();
    void openLog(job.id, name);
  });
  const duration = t.durationMs ?? (t.state === 'running' && t.startedAt ? now - t.startedAt : null);
  return h(
    'div',
    { class: 'panel-body', dataset: { panelTask: name, state: t.state } },
    h(
      'div',
      { class: 'panel-head' },
      h(
        'div',
        null,
        back ? h('button', { class: 'link small', onclick: back }, `← ${back.label}`) : null,
        h('h2', { class: 'mono' }, name),
      ),
      h('button', { class: 'icon', onclick: close, 'aria-label': 'close details', title: 'Close' }, '×'),
    ),
    h('div', { class: 'panel-state' }, badge(t.state), t.reason ? h('span', { class: 'reason muted small' }, t.reason) : null),
    h(
      'dl',
      { class: 'facts' },
      row('Attempt', t.attempt === 0 ? 'not started' : String(t.attempt)),
      row('Node', t.node === null ? '—' : `${shortId(t.node)}${cluster && t.node === cluster.self ? ' (this node)' : ''}`, t.node ?? ''),
      row('Exit code', t.exitCode === null ? '—' : String(t.exitCode)),
      row('Started', fmtTime(t.startedAt)),
      row('Finished', fmtTime(t.finishedAt)),
      row('Duration', fmtDuration(duration)),
      t.retryAt ? row('Retry at', fmtTime(t.retryAt)) : [],
      row('Fence', t.fence === null ? '—' : fmtInt(t.fence), 'the log index of the accepted claim (MESHRUN_FENCE)'),
    ),
    outputBlock(t.output),
    attemptsTable(t.attempts, cluster),
    tail('stdout', t.stdout),
    tail('stderr', t.stderr),
    h('div', { class: 'panel-actions' }, link),
  );
}

/**
 * What the task handed its dependents (docs/task-environment.md §7), as committed.
 * @param {string | null} output
 */
function outputBlock(output) {
  const head = h('div', { class: 'tail-head' }, 'output', h('span', { class: 'muted' }, ' · $MESHRUN_OUTPUT, handed to its dependents'));
  if (output === null)
    return h('div', { class: 'tail empty-tail', dataset: { output: 'none' } }, head, h('div', { class: 'muted small' }, 'none'));
  return h('div', { class: 'tail', dataset: { output: 'some' } }, head, h('pre', null, output));
}

/**
 * The task's attempts, oldest first (docs/http-api.md §6): a re-run's earlier ones included.
 * @param {readonly AttemptView[]} attempts
 * @param {ClusterView | null} cluster
 */
function attemptsTable(attempts, cluster) {
  const head = h(
    'div',
    { class: 'tail-head' },
    'attempts',
    h('span', { class: 'muted' }, ` · ${attempts.length === 0 ? 'none yet' : `${attempts.length}, oldest first`}`),
  );
  if (attempts.length === 0) return h('div', { class: 'attempts empty-tail' }, head);
  // One short card per attempt (the panel is narrow): outcome, number, node and exit, then when and why.
  const items = attempts.map((a) =>
    h(
      'li',
      { dataset: { attempt: a.attempt, outcome: a.outcome } },
      h(
        'div',
        { class: 'attempt-line' },
        h('span', { class: `badge ${ATTEMPT_BADGE[a.outcome]}`, dataset: { field: 'outcome' } }, a.outcome),
        h('span', { class: 'mono', dataset: { field: 'attempt' } }, `#${a.attempt}`),
        h(
          'span',
          {
            class: 'mono',
            dataset: { field: 'node' },
            title: a.node === null ? '' : `${a.node}${cluster && a.node === cluster.self ? ' (this node)' : ''}`,
          },
          a.node === null ? '—' : shortId(a.node),
        ),
        h('span', { class: 'mono', dataset: { field: 'exit' } }, exitText(a)),
      ),
      h(
        'div',
        { class: 'attempt-line muted small' },
        h('span', { dataset: { field: 'when' } }, `${fmtTime(a.startedAt)} → ${a.finishedAt === null ? 'now' : fmtTime(a.finishedAt)}`),
        a.reason ? h('span', { dataset: { field: 'reason' } }, a.reason) : null,
      ),
    ),
  );
  return h('div', { class: 'attempts' }, head, h('ol', { class: 'attempt-list' }, items));
}

/**
 * How the attempt's process ended: its exit code, or the signal that killed it.
 * @param {AttemptView} a
 */
function exitText(a) {
  if (a.signal !== null) return a.signal;
  return a.exitCode === null ? '' : `exit ${a.exitCode}`;
}

/** The task state whose badge colour an attempt's outcome borrows. @type {Readonly<Record<AttemptView['outcome'], TaskState>>} */
const ATTEMPT_BADGE = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  timeout: 'failed',
  lost: 'waiting',
  cancelled: 'skipped',
};

/**
 * A spec's panel: its counts and its tasks as read so far, a page at a time (GET
 * /v1/jobs/{id}/tasks?spec=), with a button for the next page while there is one.
 * @param {SpecSummary} spec
 * @param {{ items: readonly TaskItem[], next: string | null } | null} page null while the first page loads
 * @param {{ close: () => void, pick: (task: string) => void, more: () => void, back: BackLink | null }} actions
 */
export function specPanel(spec, page, { close, pick, more, back }) {
  const grid = h('div', { class: 'chipgrid' });
  for (const t of page?.items ?? []) {
    const b = h(
      'button',
      {
        class: 'hchip',
        dataset: { state: t.state, task: t.name },
        title: `${t.name}: ${t.state}${t.reason ? ` · ${t.reason}` : ''}`,
      },
      spec.shards === null ? t.name : t.name.slice(spec.name.length + 1, -1),
    );
    b.addEventListener('click', () => pick(t.name));
    grid.append(b);
  }
  const shown = page?.items.length ?? 0;
  const size = spec.shards ?? 1;
  return h(
    'div',
    { class: 'panel-body', dataset: { panelSpec: spec.name } },
    h(
      'div',
      { class: 'panel-head' },
      h(
        'div',
        null,
        back ? h('button', { class: 'link small', onclick: back }, `← ${back.label}`) : null,
        h('h2', { class: 'mono' }, spec.shards === null ? spec.name : `${spec.name} ×${fmtInt(spec.shards)}`),
      ),
      h('button', { class: 'icon', onclick: close, 'aria-label': 'close details', title: 'Close' }, '×'),
    ),
    countsList(spec.counts),
    spec.stuck ? h('p', { class: 'small reason' }, spec.stuck) : null,
    spec.deps.length ? h('p', { class: 'small muted' }, 'after ', spec.deps.join(', ')) : null,
    h(
      'div',
      { class: 'tail-head' },
      spec.shards === null ? 'Task' : 'Shards',
      page === null
        ? h('span', { class: 'muted' }, ' · loading…')
        : h('span', { class: 'muted' }, ` · ${fmtInt(shown)} of ${fmtInt(size)}`),
    ),
    grid,
    page?.next ? h('button', { class: 'link small', onclick: more, dataset: { more: spec.name } }, 'Show more') : null,
  );
}

/**
 * A level's panel (a big job is drawn by level, layers.js): its specs with their counts, each
 * opening its own panel; the first MAX_LISTED_SPECS of them.
 * @param {string} name
 * @param {readonly SpecSummary[]} specs
 * @param {{ close: () => void, pick: (spec: string) => void }} actions
 */
export function levelPanel(name, specs, { close, pick }) {
  const max = 500;
  /** @type {Record<TaskState, number>} */
  const sum = { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const sp of specs) for (const k of TASK_STATES) sum[k] += sp.counts[k];
  const grid = h('div', { class: 'chipgrid' });
  for (const sp of specs.slice(0, max)) {
    const state =
      TASK_STATES.find((k) => k !== 'succeeded' && k !== 'skipped' && sp.counts[k] > 0) ??
      (sp.counts.skipped > 0 ? 'skipped' : 'succeeded');
    const b = h('button', { class: 'hchip', dataset: { state, spec: sp.name }, title: `${sp.name}: ${state}` }, sp.name);
    b.addEventListener('click', () => pick(sp.name));
    grid.append(b);
  }
  return h(
    'div',
    { class: 'panel-body', dataset: { panelLevel: name } },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', null, name),
      h('button', { class: 'icon', onclick: close, 'aria-label': 'close details', title: 'Close' }, '×'),
    ),
    countsList(sum),
    h(
      'div',
      { class: 'tail-head' },
      'Specs',
      h(
        'span',
        { class: 'muted' },
        specs.length > max ? ` · first ${fmtInt(max)} of ${fmtInt(specs.length)}` : ` · ${fmtInt(specs.length)}`,
      ),
    ),
    grid,
  );
}

/** @param {Counts} counts */
export function countsList(counts) {
  const n = Math.max(1, total(counts));
  return h(
    'ul',
    { class: 'counts' },
    TASK_STATES.map((k) => {
      const bar = h('span', { class: `fillbar ${k}` });
      bar.style.width = `${(100 * counts[k]) / n}%`;
      return h(
        'li',
        { class: counts[k] ? '' : 'zero' },
        h('span', { class: `swatch ${k}` }),
        h('span', { class: 'label' }, k),
        h('span', { class: 'track' }, bar),
        h('span', { class: 'num' }, fmtInt(counts[k])),
      );
    }),
  );
}
