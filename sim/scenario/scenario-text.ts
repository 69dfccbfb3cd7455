// The readable output of `meshrun sim SCENARIO`: the setup, the timeline, the verdict and every
// job's end state. Only simulated facts go in, so the same scenario and seed print the same bytes.
import type { JobEnd, ScenarioResult } from './scenario-run.js';
import { describeEvent, formatTime } from './timeline.js';

export function formatScenario(r: ScenarioResult): string {
  const out: string[] = [];
  out.push(`scenario ${r.scenario} (${r.source}), seed ${r.seed}`);
  out.push(
    `nodes: ${r.nodes.map((n) => `${n.name} ${n.role} ${n.slots} slot${n.slots === 1 ? '' : 's'}${n.skewMs !== 0 ? ` clock ${n.skewMs > 0 ? '+' : ''}${n.skewMs}ms` : ''}`).join(', ')}`,
  );
  out.push(`dags: ${r.dags.map((d) => `${d.name} (${d.file}, ${d.tasks} tasks, submitted at ${formatTime(d.at).trim()})`).join(', ')}`);
  out.push('', 'timeline');
  for (const e of r.timeline) out.push(`${formatTime(e.t)}  ${describeEvent(e)}`);
  out.push(`${formatTime(r.endedAt)}  end of run`);
  out.push('', `verdict: ${r.ok ? 'every invariant held' : 'VIOLATION'}`);
  for (const v of r.verdict) {
    out.push(`  ${v.ok ? 'pass' : 'FAIL'}  ${v.invariant}`);
    if (v.detail) out.push(...v.detail.split('\n').map((l) => `        ${l}`));
  }
  if (r.trace.length > 0) {
    out.push('', 'last events before the violation');
    for (const l of r.trace) out.push(`  ${l}`);
    out.push('', `replay: meshrun sim ${r.source} --seed ${r.seed}`);
  }
  const s = r.stats;
  out.push(
    '',
    `${s.elections} leader elections, ${s.claims} claims, ${s.runs} runs, ${s.retries} retries, ${s.leaseExpiries} lease expiries`,
  );
  out.push('', 'jobs');
  for (const j of r.jobs) out.push(...formatJob(j));
  return `${out.join('\n')}\n`;
}

function formatJob(j: JobEnd): string[] {
  const lines = [`  ${j.name}${j.id ? ` (${j.id})` : ''}: ${j.state}`];
  const width = Math.max(4, ...j.tasks.map((t) => t.task.length));
  for (const t of j.tasks) {
    const exit = t.exitCode === null ? '' : `  exit ${t.exitCode}`;
    const why = t.reason ? `  (${t.reason})` : '';
    lines.push(`    ${t.task.padEnd(width)}  ${t.state.padEnd(9)}  ${(t.node ?? '-').padEnd(3)}  attempt ${t.attempt}${exit}${why}`);
  }
  return lines;
}
