// node bench/top-profile.mjs file.cpuprofile [n]: self time by function and by file, top n; then
// by module (a folder of src/, or a package), where time spent in native code and node's own
// internals is charged to the nearest caller in our code or a package (socket writes to the
// stream stack that made them, for instance), which is what says where a cost comes from; and our
// functions by total time, callees included; and the longest stretches without idle time.
import { readFileSync } from 'node:fs';
const [file, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const self = new Map();
const dt = p.timeDeltas;
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
/** A file URL relative to the checkout (any /work/<checkout>/), packages as nm/<name>. */
const shortUrl = (url) => url.replace(/^file:\/\/\/work\/[^/]+\//, '').replace(/.*node_modules\//, 'nm/');
const pkg = (url) =>
  url
    .split('/')
    .slice(0, url.startsWith('nm/@') ? 3 : 2)
    .join('/');
/** src/<layer>, sim, bench, or a package; null for native code and node's internals. */
const moduleOf = (url) => {
  if (url.startsWith('nm/')) return pkg(url);
  const m = /^(src\/[^/]+|sim|bench|test)\//.exec(url);
  return m ? m[1] : null;
};
const fn = new Map(),
  files = new Map(),
  modules = new Map();
const add = (m, k, us) => m.set(k, (m.get(k) ?? 0) + us);
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const url = shortUrl(cf.url);
  add(fn, `${cf.functionName || '(anon)'} ${url}:${cf.lineNumber + 1}`, us);
  add(files, url === '' ? `(${cf.functionName})` : url.startsWith('nm/') ? pkg(url) : url, us);
  let owner = null;
  for (let at = id; at !== undefined && owner === null; at = parent.get(at)) owner = moduleOf(shortUrl(byId.get(at).callFrame.url));
  const top = ['(idle)', '(garbage collector)', '(program)'].includes(cf.functionName) ? cf.functionName : null;
  add(modules, top ?? owner ?? '(native/node, no JS caller)', us);
}
// Total time (with callees) of our own functions: which entry points the self time above adds up to.
const inclusive = new Map();
const frameKey = (cf) => `${cf.functionName || '(anon)'} ${shortUrl(cf.url)}`;
for (const [id, us] of self) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const cf = byId.get(at).callFrame;
    if (!/^src\//.test(shortUrl(cf.url))) continue;
    const k = frameKey(cf);
    if (!seen.has(k)) {
      seen.add(k);
      add(inclusive, k, us);
    }
  }
}
// The longest stretches without idle time (event-loop stalls), each with our functions that were
// on the stack for most of it: what blocked the loop.
const stretches = [];
let current = null;
for (let i = 0; i < p.samples.length; i++) {
  const id = p.samples[i];
  const us = dt[i] ?? 0;
  if (byId.get(id).callFrame.functionName === '(idle)') {
    if (current !== null) stretches.push(current);
    current = null;
    continue;
  }
  current ??= { us: 0, on: new Map(), self: new Map() };
  current.us += us;
  const cf0 = byId.get(id).callFrame;
  add(current.self, `${cf0.functionName || '(anon)'} ${shortUrl(cf0.url)}`.trim(), us);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const cf = byId.get(at).callFrame;
    if (/^src\//.test(shortUrl(cf.url))) seen.add(`${cf.functionName || '(anon)'} ${shortUrl(cf.url)}`);
  }
  for (const k of seen) add(current.on, k, us);
}
if (current !== null) stretches.push(current);
const showStretch = (st) => {
  const on = [...st.on]
    .filter(([, us]) => us >= st.us / 2)
    .sort((a, b) => b[1] - a[1])
    .slice(-4);
  const [topSelf, topUs] = [...st.self].sort((a, b) => b[1] - a[1])[0] ?? ['?', 0];
  const ours = on.map(([k, us]) => `${k} (${Math.round((100 * us) / st.us)}%)`).join(' > ') || '(none of ours on the stack for half of it)';
  return `${(st.us / 1000).toFixed(0).padStart(6)} ms  ${ours}; most self time: ${topSelf} (${Math.round((100 * topUs) / st.us)}%)`;
};
const show = (m) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
    .join('\n');
console.log(`total sampled ${(total / 1000).toFixed(0)} ms over ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms wall`);
console.log('--- by function (self)\n' + show(fn));
console.log('--- by file/package (self)\n' + show(files));
console.log('--- our functions by total time (with callees)\n' + show(inclusive));
console.log(
  '--- longest busy stretches (event-loop stalls), with the innermost of our functions on the stack for half of each or more\n' +
    stretches
      .sort((a, b) => b.us - a.us)
      .slice(0, 5)
      .map(showStretch)
      .join('\n'),
);
console.log('--- by module (native and node internals charged to their nearest caller in src/ or a package)\n' + show(modules));
