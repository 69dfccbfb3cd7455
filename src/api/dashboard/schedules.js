// @ts-check
// The dashboard's schedules card (docs/http-api.md §13): each schedule with its cadence, its next
// tick and its recent runs, each run linking to its job's page. Data from GET /v1/schedules.
import { h, fmtAgo, fmtTime } from './util.js';
import { badge } from './views.js';

/** @import { ScheduleInfo } from '../types.js' */

/** Recent runs shown per schedule. */
const RUNS_SHOWN = 5;

/** @param {ScheduleInfo} s */
function cadence(s) {
  if (s.cron !== undefined) return `cron ${s.cron}${s.timezone === 'UTC' ? '' : ` · ${s.timezone}`}`;
  return `every ${s.every ?? '?'}`;
}

/**
 * @param {ScheduleInfo} s
 * @param {number} now
 */
function nextTick(s, now) {
  if (s.paused) return badge('paused');
  if (s.nextAt === null) return h('span', { class: 'muted' }, 'never');
  const inMs = s.nextAt - now;
  return h(
    'span',
    { title: new Date(s.nextAt).toISOString() },
    fmtTime(s.nextAt),
    h('div', { class: 'small muted' }, inMs > 0 ? `in ${fmtAgo(now - inMs, now).replace(/ ago$/, '')}` : 'due'),
  );
}

/** @param {ScheduleInfo} s */
function runs(s) {
  if (s.runs.length === 0) return h('span', { class: 'muted' }, 'no runs yet');
  return h(
    'ul',
    { class: 'schedule-runs' },
    s.runs
      .slice(0, RUNS_SHOWN)
      .map((r) =>
        h(
          'li',
          { dataset: { job: r.job } },
          h(
            'a',
            { href: `#/jobs/${encodeURIComponent(r.job)}`, class: 'mono small', title: `tick ${new Date(r.tick).toISOString()}` },
            fmtTime(r.tick),
          ),
          ' ',
          r.state === null ? h('span', { class: 'small muted' }, 'removed') : badge(r.state),
          r.triggered ? h('span', { class: 'small muted' }, ' trigger') : null,
        ),
      ),
  );
}

/** @param {readonly ScheduleInfo[]} schedules `schedules` from GET /v1/schedules */
export function schedulesTable(schedules) {
  if (schedules.length === 0) {
    return h(
      'div',
      { class: 'empty' },
      h('p', null, 'No schedules.'),
      h('p', { class: 'muted' }, 'Add one with ', h('code', null, 'meshrun schedule add schedule.yaml'), '.'),
    );
  }
  const now = Date.now();
  const rows = schedules.map((s) =>
    h(
      'tr',
      { dataset: { schedule: s.name } },
      h('td', null, h('span', { class: 'jobname' }, s.name), h('div', { class: 'small muted' }, cadence(s))),
      h('td', { class: 'nowrap' }, nextTick(s, now)),
      h('td', { class: 'small' }, `overlap ${s.overlap}`, h('div', { class: 'muted' }, `catchup ${s.catchup}`)),
      h('td', { class: 'small nowrap' }, `${s.fired} fired`, h('div', { class: 'muted' }, `${s.skipped} skipped · ${s.missed} missed`)),
      h('td', { class: 'wide' }, runs(s)),
    ),
  );
  return h(
    'table',
    { class: 'table schedules' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', null, 'Schedule'),
        h('th', null, 'Next tick'),
        h('th', null, 'Policies'),
        h('th', null, 'Ticks'),
        h('th', { class: 'wide' }, 'Recent runs'),
      ),
    ),
    h('tbody', null, rows),
  );
}
