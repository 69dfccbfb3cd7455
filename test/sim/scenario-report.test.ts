// The HTML report of `meshrun sim --report`: one self-contained page, the same bytes for the same
// result, a lane per node, a bar per execution, and every name escaped.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../sim/scenario/html-report.js';
import { executions } from '../../sim/scenario/html-svg.js';
import { readScenarioFile } from '../../sim/scenario/scenario-file.js';
import { runScenario } from '../../sim/scenario/scenario-run.js';
import type { ScenarioResult } from '../../sim/scenario/scenario-run.js';
import type { TimelineEvent } from '../../sim/scenario/timeline.js';
import { verdictOf } from '../../sim/scenario/verdict.js';

const EVIL = 'etl<script>alert("x")</script>&co';

type Exec = { job: string; task: string; node: string; attempt: number; fence: number };
const start = (t: number, x: Exec): TimelineEvent => ({ kind: 'start', t, ...x });
const end = (
  t: number,
  startedAt: number,
  x: Exec,
  how: 'completed' | 'timeout' | 'stopped' | 'crashed',
  outcome: string,
): TimelineEvent => ({ kind: 'end', t, startedAt, how, outcome, ...x });

/** Three nodes, one execution of each kind: succeeded, failed, timeout, stopped, crashed, and one still running. */
function result(ok = true): ScenarioResult {
  const ex = (task: string, node: string, attempt = 1): Exec => ({ job: EVIL, task, node, attempt, fence: attempt });
  const timeline: TimelineEvent[] = [
    { kind: 'leader', t: 500, node: 'n1', term: 1 },
    { kind: 'submit', t: 600, job: EVIL, via: 'n2', id: 'j1' },
    { kind: 'claim', t: 700, job: EVIL, task: 'a', node: 'n2', attempt: 1, fence: 1 },
    start(701, ex('a', 'n2')),
    start(702, ex('b', 'n2')),
    start(703, ex('c', 'n3')),
    start(704, ex('d', 'n3')),
    start(705, ex('e', 'n1')),
    { kind: 'fault', t: 1000, id: 1, type: 'kill', what: 'kill n1 (the leader)', nodes: ['n1'], groups: [] },
    end(1000, 705, ex('e', 'n1'), 'crashed', 'failed'),
    { kind: 'leader', t: 1600, node: 'n2', term: 2 },
    end(2000, 701, ex('a', 'n2'), 'completed', 'succeeded'),
    { kind: 'task', t: 2005, job: EVIL, task: 'a', from: 'running', to: 'succeeded', node: 'n2', attempt: 1, reason: null },
    end(2100, 702, ex('b', 'n2'), 'completed', 'failed'),
    { kind: 'task', t: 2105, job: EVIL, task: 'b', from: 'running', to: 'ready', node: 'n2', attempt: 1, reason: 'exit 1' },
    end(2500, 703, ex('c', 'n3'), 'timeout', 'failed'),
    end(2600, 704, ex('d', 'n3'), 'stopped', 'failed'),
    { kind: 'fault-end', t: 3000, id: 1, what: 'n1 down' },
    start(3100, ex('b', 'n2', 2)),
    { kind: 'note', t: 4000, text: 'end of the fault schedule: everything healed; every job must now finish' },
  ];
  const verdict = verdictOf(ok ? null : { invariant: 'fencing (b)', detail: 'a stale finish <fence 1> was accepted' });
  return {
    scenario: 'report-test',
    source: 'test/report.yaml',
    seed: 7,
    nodes: [
      { name: 'n1', role: 'voter', slots: 1, skewMs: 0 },
      { name: 'n2', role: 'voter', slots: 2, skewMs: 200 },
      { name: 'n3', role: 'learner', slots: 2, skewMs: 0 },
    ],
    dags: [{ name: EVIL, file: 'evil.yaml', tasks: 5, at: 0 }],
    ok,
    verdict,
    trace: ok ? [] : ['t=2.000 n2 <finish> a'],
    timeline,
    jobs: [
      {
        name: EVIL,
        id: 'j1',
        state: 'running',
        tasks: [{ task: 'a', state: 'succeeded', node: 'n2', attempt: 1, exitCode: 0, reason: null }],
      },
    ],
    healAt: 4000,
    endedAt: 5000,
    stats: { elections: 2, claims: 1, runs: 6, leaseExpiries: 0, retries: 1 },
  };
}

const count = (html: string, re: RegExp): number => html.match(re)?.length ?? 0;

describe('renderHtmlReport', () => {
  it('is self-contained: no external scripts, styles, images or fonts', () => {
    const html = renderHtmlReport(result());
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(count(html, /<script>/g)).toBe(1);
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });

  it('gives the same bytes for the same result', () => {
    expect(renderHtmlReport(result())).toBe(renderHtmlReport(result()));
    expect(renderHtmlReport(result(false))).toBe(renderHtmlReport(result(false)));
  });

  it('draws a lane per node and a bar per execution, colored by how it ended', () => {
    const html = renderHtmlReport(result());
    expect(count(html, /<g data-lane="/g)).toBe(3);
    for (const n of ['n1', 'n2', 'n3']) expect(html).toContain(`data-lane="${n}"`);
    expect(count(html, /data-exec="/g)).toBe(6);
    const outcomes = [...html.matchAll(/data-outcome="(\w+)"/g)].map((m) => m[1]).sort();
    expect(outcomes).toEqual(['crashed', 'failed', 'running', 'stopped', 'succeeded', 'timeout']);
    expect(count(html, /data-leader="/g)).toBe(2);
    expect(html).toContain('data-fault="1"');
    expect(html).toContain('data-heal=');
    // The crashed run ends with its node; the still-running one at the end of the run.
    const byTask = new Map(executions(result()).map((e) => [`${e.task}#${e.attempt}`, e]));
    expect(byTask.get('e#1')).toMatchObject({ start: 705, end: 1000, outcome: 'crashed' });
    expect(byTask.get('b#2')).toMatchObject({ start: 3100, end: 5000, outcome: 'running' });
    expect(byTask.get('a#1')).toMatchObject({ outcome: 'succeeded', lost: false });
  });

  it('escapes every name it prints', () => {
    const html = renderHtmlReport(result(false));
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('etl&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;co');
    expect(html).not.toContain('<fence 1>');
    expect(html).toContain('VIOLATION');
    expect(html).toContain('data-verdict="violation"');
    expect(renderHtmlReport(result())).toContain('every invariant held');
  });

  it('draws a real run: the minority-partition example', () => {
    const r = runScenario(readScenarioFile(resolve(import.meta.dirname, '../../examples/scenarios/minority-partition.yaml')), 1);
    const html = renderHtmlReport(r);
    expect(html).toBe(renderHtmlReport(r));
    expect(count(html, /<g data-lane="/g)).toBe(r.nodes.length);
    expect(count(html, /data-exec="/g)).toBe(r.timeline.filter((e) => e.kind === 'start').length);
    // Every end pairs with its start: no execution is drawn twice or left open.
    expect(executions(r).filter((e) => e.outcome === 'running')).toEqual([]);
    expect(count(html, /data-fault="/g)).toBe(r.timeline.filter((e) => e.kind === 'fault').length);
    expect(html).toContain('every invariant held');
  }, 60_000);
});
