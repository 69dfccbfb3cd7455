// node bench/top-profile.mjs file.cpuprofile [n]: self time by function and by file, top n.
import { readFileSync } from 'node:fs';
const [file, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const self = new Map();
const dt = p.timeDeltas;
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map(), files = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const url = cf.url.replace(/^file:\/\/\/work\/main\//, '').replace(/.*node_modules\//, 'nm/');
  const k = `${cf.functionName || '(anon)'} ${url}:${cf.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + us);
  const f = url === '' ? `(${cf.functionName})` : url.startsWith('nm/') ? url.split('/').slice(0, url.includes('@') ? 3 : 2).join('/') : url;
  files.set(f, (files.get(f) ?? 0) + us);
}
const show = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${(100 * us / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`).join('\n');
console.log(`total sampled ${(total / 1000).toFixed(0)} ms over ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms wall`);
console.log('--- by function (self)\n' + show(fn));
console.log('--- by file/package (self)\n' + show(files));
