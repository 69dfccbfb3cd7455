// `meshrun sim SCENARIO --report FILE.html`: the run as one self-contained page (inline CSS, SVG
// and a few lines of script; nothing fetched), for a human to look at. The drawing is in
// html-svg.ts; this file adds the header, the verdict, every job's end state and the legend.
// Pure: the same result gives the same bytes.
import type { JobEnd, ScenarioResult } from './scenario-run.js';
import { esc, renderTimelineSvg } from './html-svg.js';
import { formatTime } from './timeline.js';

const CSS = `
*{box-sizing:border-box}
body{margin:0;padding:20px 28px 40px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;background:#f8fafc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:26px 0 8px}h3{font-size:14px;margin:16px 0 6px}
.meta{color:#475569;margin:2px 0}.meta b{color:#0f172a;font-weight:600}
.verdict{display:inline-block;margin:10px 0 4px;padding:5px 12px;border-radius:6px;font-weight:600}
.verdict.ok{background:#dcfce7;color:#166534;border:1px solid #86efac}.verdict.bad{background:#fee2e2;color:#991b1b;border:1px solid #fca5a5}
.why{margin:4px 0 0;color:#991b1b;white-space:pre-wrap;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
.why.failed{display:block;max-width:1280px;padding:8px 12px;background:#fef2f2;border:1px solid #fecaca;border-left:4px solid #dc2626;border-radius:6px}
.scroll{overflow-x:auto;width:fit-content;max-width:100%;background:#fff;border:1px solid #e2e8f0;border-radius:8px;margin-top:14px}
svg.timeline{display:block;font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
svg .lane{fill:#fff}svg .lane.odd{fill:#f1f5f9}
svg .grid{stroke:#e2e8f0;stroke-width:1}svg .axis{fill:#64748b;text-anchor:middle}
svg .band{fill:#475569;text-anchor:end;font-weight:600}
svg .node{font-size:13px;font-weight:700;fill:#0f172a}svg .sub{fill:#64748b;font-size:10.5px}
svg .on{fill:#fff;font-weight:600;pointer-events:none}svg .fault{font-weight:600;pointer-events:none}
svg .heal{stroke:#16a34a;stroke-width:1.5;stroke-dasharray:6 3;fill:#15803d;text-anchor:end;font-weight:600}text.heal{stroke:none}
svg .exec text{pointer-events:none;fill:#fff;font-weight:600;paint-order:stroke;stroke:rgba(0,0,0,.25);stroke-width:2px}
svg .exec.succeeded rect{fill:#16a34a}svg .exec.failed rect{fill:#dc2626}svg .exec.timeout rect{fill:#f97316}
svg .exec.stopped rect{fill:url(#stripes);stroke:#64748b}svg .exec.stopped text{fill:#1e293b;stroke:rgba(255,255,255,.8)}
svg .exec.lost rect{fill-opacity:.38;stroke-dasharray:3 2}svg .exec.succeeded.lost rect{stroke:#16a34a}svg .exec.failed.lost rect{stroke:#dc2626}
svg .exec.timeout.lost rect{stroke:#f97316}svg .exec.lost text{fill:#0f172a;stroke:none}
svg .exec.crashed rect{fill:url(#hatch);stroke:#7f1d1d}
svg .exec.running rect{fill:#bfdbfe;stroke:#2563eb;stroke-dasharray:4 2}svg .exec.running text{fill:#1e3a8a;stroke:none}
svg [data-tip]:hover rect,svg [data-tip]:hover path{filter:brightness(1.12)}svg .exec:hover rect{stroke:#0f172a;stroke-width:1.5}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:10px 2px 0;color:#334155;font-size:12.5px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:26px;height:12px;border-radius:2px}
.sw.tick{width:3px;height:14px;border-radius:1px}.sw.zone{border:1px dashed}
table{border-collapse:collapse;background:#fff;border:1px solid #e2e8f0;font-size:13px}
th,td{padding:4px 12px;text-align:left;border-bottom:1px solid #e2e8f0;vertical-align:top}th{background:#f1f5f9;font-weight:600}
td.pass{color:#15803d;font-weight:600}td.fail{color:#b91c1c;font-weight:700}
.st-succeeded{color:#15803d}.st-failed{color:#b91c1c}.st-skipped,.st-cancelled{color:#64748b}
pre.trace{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;font-size:12px;overflow-x:auto}
#tip{position:absolute;z-index:10;display:none;max-width:560px;padding:7px 10px;border-radius:6px;background:#0f172a;color:#f8fafc;
font:12px/1.5 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;pointer-events:none;box-shadow:0 4px 14px rgba(15,23,42,.3)}
`;

/** <title> children become a custom tooltip (without script the browser shows the titles itself). */
const SCRIPT = `
(function(){
  var tip=document.getElementById('tip');
  document.querySelectorAll('svg.timeline title').forEach(function(t){t.parentNode.setAttribute('data-tip',t.textContent);t.remove();});
  function move(ev){
    var el=ev.target.closest&&ev.target.closest('svg.timeline [data-tip]');
    if(!el){tip.style.display='none';return;}
    tip.textContent=el.getAttribute('data-tip');tip.style.display='block';
    var w=tip.offsetWidth,h=tip.offsetHeight,x=ev.clientX+14,y=ev.clientY+16;
    if(x+w>innerWidth-8)x=Math.max(8,ev.clientX-w-14);if(y+h>innerHeight-8)y=Math.max(8,ev.clientY-h-16);
    tip.style.left=(x+scrollX)+'px';tip.style.top=(y+scrollY)+'px';
  }
  document.addEventListener('mousemove',move);
})();
`;

const LEGEND: readonly (readonly [string, string])[] = [
  ['background:#16a34a', 'succeeded'],
  ['background:#dc2626', 'failed (non-zero exit)'],
  ['background:#f97316', 'timed out'],
  [
    'background:repeating-linear-gradient(45deg,#94a3b8 0 3px,#cbd5e1 3px 6px);border:1px solid #64748b',
    'stopped by its node (lease lost)',
  ],
  ['background:repeating-linear-gradient(-45deg,#7f1d1d 0 3px,#fca5a5 3px 4.5px)', 'crashed with its node'],
  ['background:#bfdbfe;border:1px dashed #2563eb', 'still running at the end'],
  ['background:rgba(22,163,74,.38);border:1px dashed #16a34a', 'faded: its result was never committed'],
];
const TICKS: readonly (readonly [string, string])[] = [
  ['#2563eb', 'claim committed'],
  ['#16a34a', 'result committed'],
  ['#dc2626', 'failure / retry'],
  ['#ea580c', 'lease expired'],
  ['#64748b', 'other'],
];

function legend(): string {
  const item = (style: string, text: string, cls = 'sw'): string => `<span><i class="${cls}" style="${style}"></i>${esc(text)}</span>`;
  return (
    `<div class="legend">${LEGEND.map(([s, t]) => item(s, t)).join('')}</div>` +
    `<div class="legend">${TICKS.map(([c, t]) => item(`background:${c}`, t, 'sw tick')).join('')}` +
    item('background:rgba(147,51,234,.12);border-color:#9333ea', 'fault (network)', 'sw zone') +
    item('background:rgba(51,65,85,.14);border-color:#334155', 'node killed', 'sw zone') +
    item('background:rgba(2,132,199,.14);border-color:#0284c7', 'node paused', 'sw zone') +
    item('background:rgba(13,148,136,.14);border-color:#0d9488', 'clock set', 'sw zone') +
    item('background:linear-gradient(90deg,transparent 11px,#16a34a 11px 14px,transparent 14px)', 'final heal') +
    '<span>leader band: the node that leads each term (thin strip: a deposed leader that has not noticed yet)</span></div>'
  );
}

function verdictTable(r: ScenarioResult): string {
  const rows = r.verdict
    .map(
      (v) =>
        `<tr data-invariant="${esc(v.invariant)}"><td class="${v.ok ? 'pass' : 'fail'}">${v.ok ? 'pass' : 'FAIL'}</td>` +
        `<td>${esc(v.invariant)}${v.detail ? `<div class="why">${esc(v.detail)}</div>` : ''}</td></tr>`,
    )
    .join('');
  const trace =
    r.trace.length === 0
      ? ''
      : `<h3>Last events before the violation</h3><pre class="trace">${esc(r.trace.join('\n'))}</pre>` +
        `<p class="meta">replay: <code>${esc(`meshrun sim ${r.source} --seed ${r.seed}`)}</code></p>`;
  return `<table class="verdict-table"><tr><th></th><th>invariant</th></tr>${rows}</table>${trace}`;
}

function jobTable(j: JobEnd): string {
  const head = `<h3 data-job="${esc(j.name)}">${esc(j.name)}${j.id ? ` <span class="meta">(${esc(j.id)})</span>` : ''}: <span class="st-${esc(j.state)}">${esc(j.state)}</span></h3>`;
  if (j.tasks.length === 0) return head;
  const rows = j.tasks
    .map(
      (t) =>
        `<tr><td>${esc(t.task)}</td><td class="st-${esc(t.state)}">${esc(t.state)}</td><td>${esc(t.node ?? '-')}</td>` +
        `<td>${t.attempt}</td><td>${t.exitCode ?? ''}</td><td>${esc(t.reason ?? '')}</td></tr>`,
    )
    .join('');
  return `${head}<table><tr><th>task</th><th>state</th><th>node</th><th>attempt</th><th>exit</th><th>reason</th></tr>${rows}</table>`;
}

export function renderHtmlReport(r: ScenarioResult): string {
  const failed = r.verdict.filter((v) => !v.ok);
  const verdict = r.ok
    ? '<div class="verdict ok" data-verdict="ok">✔ every invariant held</div>'
    : `<div class="verdict bad" data-verdict="violation">✘ VIOLATION</div>${failed.map((v) => `<div class="why failed"><b>${esc(v.invariant)}</b>${v.detail ? `\n${esc(v.detail)}` : ''}</div>`).join('')}`;
  const s = r.stats;
  const nodes = r.nodes
    .map(
      (n) =>
        `${n.name} ${n.role} ${n.slots} slot${n.slots === 1 ? '' : 's'}${n.skewMs ? ` clock ${n.skewMs > 0 ? '+' : ''}${n.skewMs}ms` : ''}`,
    )
    .join(', ');
  const dags = r.dags.map((d) => `${d.name} (${d.file}, ${d.tasks} tasks, submitted at ${formatTime(d.at).trim()})`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(`meshrun sim: ${r.scenario} (seed ${r.seed})`)}</title><style>${CSS}</style></head>
<body>
<h1>meshrun sim: ${esc(r.scenario)}</h1>
<p class="meta"><b>${esc(r.source)}</b> · seed <b>${r.seed}</b> · ended at <b>${esc(formatTime(r.endedAt).trim())}</b> · final heal at <b>${esc(formatTime(r.healAt).trim())}</b></p>
<p class="meta">nodes: ${esc(nodes)}</p>
<p class="meta">dags: ${esc(dags)}</p>
<p class="meta">${s.elections} leader elections, ${s.claims} claims, ${s.runs} runs, ${s.retries} retries, ${s.leaseExpiries} lease expiries</p>
${verdict}
<div class="scroll">${renderTimelineSvg(r)}</div>
${legend()}
<h2>Verdict</h2>
${verdictTable(r)}
<h2>Jobs</h2>
${r.jobs.map(jobTable).join('\n')}
<div id="tip" role="tooltip"></div>
<script>${SCRIPT}</script>
</body></html>
`;
}
