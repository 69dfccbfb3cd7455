// A user's scenario file (docs/simulation.md §7): the cluster, the DAG files it runs, how their `run`
// tasks behave in simulated time, and a schedule of faults. Read from YAML (or JSON) into a
// checked Scenario; every problem names the field (`faults[2].kill: unknown node 'n7'`) and all
// of them are reported at once, so a user fixes a file in one pass.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DagError, parseDagText } from '../../src/dag/parse.js';
import { formatDuration, parseDuration } from '../../src/dag/duration.js';
import { errorMessage } from '../../src/errors.js';
import { ScheduleError, parseScheduleText } from '../../src/schedule/file.js';
import type { ScheduleSpec } from '../../src/scheduler/schedule-types.js';
import type { JobSpec } from '../../src/scheduler/types.js';
import { WORKER_DEFAULTS } from '../../src/worker/worker.js';
import { MAX_SIM_NODES, maxVoters } from '../scale.js';

/** A node named by the scenario (`n1`..`nN`), or the one that leads when the fault fires. */
export type NodeRef = string;
export type NodeSet = 'all' | readonly NodeRef[];

export type Fault =
  /** Groups cut from one another; nodes in no group form one more group. */
  | { readonly kind: 'partition'; readonly groups: readonly (readonly NodeRef[])[] }
  | { readonly kind: 'isolate'; readonly node: NodeRef }
  | { readonly kind: 'oneway'; readonly from: NodeRef; readonly to: NodeRef }
  | { readonly kind: 'flap'; readonly a: NodeRef; readonly b: NodeRef; readonly everyMs: number; readonly forMs: number }
  | { readonly kind: 'kill'; readonly nodes: NodeSet }
  | { readonly kind: 'restart'; readonly nodes: NodeSet }
  | { readonly kind: 'pause'; readonly nodes: NodeSet }
  | { readonly kind: 'resume'; readonly nodes: NodeSet }
  | { readonly kind: 'loss'; readonly rate: number }
  | { readonly kind: 'delay'; readonly ms: number }
  /** Set clocks: each node's clock reads true time plus its offset from then on (a clock jump). */
  | { readonly kind: 'skew'; readonly offsets: ReadonlyMap<NodeRef, number> }
  | { readonly kind: 'heal' };

export interface TimedFault {
  readonly at: number;
  readonly fault: Fault;
}

/** How a simulated `run` task behaves: its length is drawn once in [minMs, maxMs] (every attempt takes that long). */
export interface TaskBehaviour {
  readonly minMs: number;
  readonly maxMs: number;
  /** Exit code of attempt k is exits[k-1]; the last one repeats. */
  readonly exits: readonly number[];
}

export interface ScenarioDag {
  readonly file: string;
  readonly spec: JobSpec;
  /** Submitted at this simulated time. */
  readonly at: number;
}

/** A schedule file (as `meshrun schedule add` takes it), put at a simulated time (docs/simulation.md §7). */
export interface ScenarioSchedule {
  readonly file: string;
  readonly spec: ScheduleSpec;
  readonly at: number;
}

export interface Scenario {
  readonly name: string;
  readonly source: string;
  readonly nodes: readonly string[];
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly slots: ReadonlyMap<string, number>;
  /** Each node's clock minus true time, ms. */
  readonly skew: ReadonlyMap<string, number>;
  readonly dags: readonly ScenarioDag[];
  readonly schedules: readonly ScenarioSchedule[];
  /** By task name, or by `job/task`; a spec's name covers its shards. */
  readonly tasks: ReadonlyMap<string, TaskBehaviour>;
  readonly faults: readonly TimedFault[];
  /** When the faults end: whatever is still broken is healed and every job must then finish. */
  readonly healAt: number;
  readonly seed: number | null;
}

/** A clock skewed by more than a tenth of the lease weakens the lease guarantee. */
export const MAX_SKEW_MS = WORKER_DEFAULTS.leaseMs / 10;
export const DEFAULT_SLOTS = 2;
/** Default length of a simulated `run` attempt. */
export const DEFAULT_RUN_MS: readonly [number, number] = [200, 2000];
const MAX_SIM_MS = 3_600_000;

/** A scenario file that cannot be used; `problems` name the field of each. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

const TOP_FIELDS = ['name', 'description', 'nodes', 'voters', 'slots', 'skew', 'seed', 'dags', 'schedules', 'tasks', 'faults', 'duration'];
const FAULT_KINDS = ['partition', 'isolate', 'oneway', 'flap', 'kill', 'restart', 'pause', 'resume', 'loss', 'delay', 'skew', 'heal'];

export function readScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError([`${path}: cannot read the scenario file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseScenario(text, path, (file) => readFileSync(file, 'utf8'));
}

/** `readDag` reads a DAG file named by the scenario (resolved against the scenario's folder). */
export function parseScenario(text: string, source: string, readDag: (file: string) => string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ScenarioError([`${source}: not valid YAML: ${errorMessage(err).split('\n')[0]}`]);
  }
  const p = new Problems(source);
  if (!isMapping(raw)) throw new ScenarioError([`${source}: expected a mapping with nodes, dags and faults`]);
  for (const k of Object.keys(raw)) if (!TOP_FIELDS.includes(k)) p.add(k, `unknown field (known: ${TOP_FIELDS.join(', ')})`);

  const nodeCount = int(p, 'nodes', raw['nodes'], 1, MAX_SIM_NODES) ?? 3;
  const nodes = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const voterCount = raw['voters'] === undefined ? Math.min(nodeCount, 3) : (int(p, 'voters', raw['voters'], 1, maxVoters(nodeCount)) ?? 1);
  const voters = nodes.slice(0, voterCount);
  const learners = nodes.slice(voterCount);
  const known = (field: string, v: unknown, leader: boolean): NodeRef | null => {
    if (typeof v === 'string' && (nodes.includes(v) || (leader && v === 'leader'))) return v;
    p.add(field, `unknown node ${show(v)}: the nodes are ${nodes.join(', ')}${leader ? ', or leader' : ''}`);
    return null;
  };

  const slots = new Map(nodes.map((n) => [n, DEFAULT_SLOTS]));
  const rawSlots = raw['slots'];
  if (isMapping(rawSlots)) {
    for (const [k, v] of Object.entries(rawSlots)) {
      if (known(`slots.${k}`, k, false)) slots.set(k, int(p, `slots.${k}`, v, 1, 64) ?? DEFAULT_SLOTS);
    }
  } else if (rawSlots !== undefined) {
    const n = int(p, 'slots', rawSlots, 1, 64) ?? DEFAULT_SLOTS;
    for (const node of nodes) slots.set(node, n);
  }

  const skew = raw['skew'] === undefined ? new Map<string, number>() : readSkew(p, 'skew', raw['skew'], known);

  const seed = raw['seed'] === undefined ? null : int(p, 'seed', raw['seed'], 0, 0xffffffff);
  const schedules = raw['schedules'] === undefined ? [] : readSchedules(p, raw['schedules'], source, readDag);
  // A scenario with schedules may have no DAG of its own: its schedules' runs are its jobs.
  const dags = schedules.length > 0 && raw['dags'] === undefined ? [] : readDags(p, raw['dags'], source, readDag);
  const tasks = readTasks(p, raw['tasks'], [...dags, ...schedules.map((x) => ({ file: x.file, spec: x.spec.dag, at: x.at }))]);
  const faults = readFaults(p, raw['faults'], known);
  const lastFault = faults.at(-1)?.at ?? 0;
  let healAt = lastFault + 5000;
  if (raw['duration'] !== undefined) {
    const d = dur(p, 'duration', raw['duration']);
    if (d !== null && d <= lastFault)
      p.add('duration', `${show(raw['duration'])} ends before the last fault (at ${formatDuration(lastFault)})`);
    else if (d !== null) healAt = d;
  }
  if (healAt > MAX_SIM_MS) p.add('duration', `the scenario lasts ${formatDuration(healAt)}; at most ${formatDuration(MAX_SIM_MS)}`);
  p.throwIfAny();
  const name =
    typeof raw['name'] === 'string' && raw['name'] !== '' ? raw['name'] : source.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, '');
  return { name, source, nodes, voters, learners, slots, skew, dags, schedules, tasks, faults, healAt, seed };
}

/** `schedules: [nightly.yaml, { file: every-2s.yaml, at: 3s }]`: schedule files, their `dag:` relative to each. */
function readSchedules(p: Problems, v: unknown, source: string, readDag: (file: string) => string): ScenarioSchedule[] {
  if (!Array.isArray(v)) {
    p.add('schedules', 'expected a list of schedule files (the files meshrun schedule add takes), like [nightly.yaml]');
    return [];
  }
  const out: ScenarioSchedule[] = [];
  v.forEach((d: unknown, i) => {
    const field = `schedules[${i}]`;
    const entry = readFileEntry(p, field, d, 'schedule', source, readDag);
    if (entry === null) return;
    const { file, path, text, at } = entry;
    try {
      const { spec } = parseScheduleText(text, file, (dag) => {
        const dagPath = resolve(dirname(path), dag);
        const spec = parseDagText(readDag(dagPath), dag);
        return { raw: parseYaml(readDag(dagPath)) as unknown, spec };
      });
      if (out.some((x) => x.spec.name === spec.name)) p.add(field, `a second schedule named '${spec.name}'`);
      out.push({ file, spec, at });
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      p.add(field, `schedule file ${file} does not validate: ${err.problems.join('; ')}`);
    }
  });
  return out;
}

/** One entry of `dags:` or `schedules:`: a path or `{ file, at }`, read next to the scenario file; null once its problem is added. */
function readFileEntry(
  p: Problems,
  field: string,
  d: unknown,
  kind: 'DAG' | 'schedule',
  source: string,
  readDag: (file: string) => string,
): { file: string; path: string; text: string; at: number } | null {
  let file: unknown = d;
  let at = 0;
  if (isMapping(d)) {
    for (const k of Object.keys(d)) if (k !== 'file' && k !== 'at') p.add(`${field}.${k}`, 'unknown field (known: file, at)');
    file = d['file'];
    at = d['at'] === undefined ? 0 : (dur(p, `${field}.at`, d['at']) ?? 0);
  }
  if (typeof file !== 'string' || file === '') {
    p.add(field, `expected a ${kind} file path or { file, at }, got ${show(d)}`);
    return null;
  }
  const path = resolve(dirname(source), file);
  try {
    return { file, path, text: readDag(path), at };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    p.add(
      field,
      `cannot read ${kind} file ${file} (looked for ${path}, next to the scenario file): ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}`,
    );
    return null;
  }
}

function readDags(p: Problems, v: unknown, source: string, readDag: (file: string) => string): ScenarioDag[] {
  if (!Array.isArray(v) || v.length === 0) {
    p.add('dags', 'expected a list of DAG files (the files meshrun submit takes), like [examples/etl.yaml]');
    return [];
  }
  const out: ScenarioDag[] = [];
  const names = new Set<string>();
  v.forEach((d: unknown, i) => {
    const field = `dags[${i}]`;
    const entry = readFileEntry(p, field, d, 'DAG', source, readDag);
    if (entry === null) return;
    const { file, text, at } = entry;
    try {
      const spec = parseDagText(text, file);
      if (names.has(spec.name)) p.add(field, `a second DAG named '${spec.name}': give each DAG of a scenario its own name`);
      names.add(spec.name);
      out.push({ file, spec, at });
    } catch (err) {
      if (!(err instanceof DagError)) throw err;
      p.add(field, `DAG file ${file} does not validate: ${err.problems.join('; ')}`);
    }
  });
  return out;
}

/** `{ n2: 200ms, n3: -150ms }`: each node's clock ahead of (or behind) true time, within MAX_SKEW_MS. */
function readSkew(
  p: Problems,
  field: string,
  v: unknown,
  known: (field: string, v: unknown, leader: boolean) => NodeRef | null,
): Map<string, number> {
  const out = new Map<string, number>();
  if (!isMapping(v) || Object.keys(v).length === 0) {
    p.add(field, 'expected a mapping of node to clock offset, like { n2: 200ms, n3: -150ms }');
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    if (!known(`${field}.${k}`, k, false)) continue;
    const neg = typeof x === 'string' && x.trim().startsWith('-');
    const ms = dur(p, `${field}.${k}`, neg ? x.trim().slice(1) : x);
    if (ms === null) continue;
    if (ms > MAX_SKEW_MS)
      p.add(`${field}.${k}`, `${show(x)} is more than ${formatDuration(MAX_SKEW_MS)}, the skew meshrun's leases are built to tolerate`);
    else out.set(k, neg ? -ms : ms);
  }
  return out;
}

function readTasks(p: Problems, v: unknown, dags: readonly ScenarioDag[]): Map<string, TaskBehaviour> {
  const out = new Map<string, TaskBehaviour>();
  if (v === undefined) return out;
  if (!isMapping(v)) {
    p.add('tasks', 'expected a mapping of task name to behaviour, like { extract: { duration: 3s, exit: [1, 0] } }');
    return out;
  }
  for (const [key, b] of Object.entries(v)) {
    const field = `tasks.${key}`;
    const slash = key.indexOf('/');
    const job = slash < 0 ? null : key.slice(0, slash);
    const task = slash < 0 ? key : key.slice(slash + 1);
    const found = dags.some((d) => (job === null || d.spec.name === job) && d.spec.tasks.some((t) => t.name === task));
    if (!found) {
      p.add(field, `no task '${task}' in ${job === null ? "the scenario's DAGs" : `a DAG named '${job}'`}`);
      continue;
    }
    if (!isMapping(b)) {
      p.add(field, 'expected { duration, exit }');
      continue;
    }
    for (const k of Object.keys(b)) if (k !== 'duration' && k !== 'exit') p.add(`${field}.${k}`, 'unknown field (known: duration, exit)');
    let range: [number, number] = [DEFAULT_RUN_MS[0], DEFAULT_RUN_MS[1]];
    if (b['duration'] !== undefined) {
      const text = typeof b['duration'] === 'string' ? b['duration'] : '';
      const parts = text.split(/\s*-\s*/);
      const lo = dur(p, `${field}.duration`, parts.length === 2 ? parts[0] : b['duration']);
      const hi = parts.length === 2 ? dur(p, `${field}.duration`, parts[1]) : lo;
      if (lo !== null && hi !== null) {
        if (hi < lo) p.add(`${field}.duration`, `${text}: the range ends before it starts`);
        range = [lo, hi];
      }
    }
    let exits: number[] = [0];
    const e = b['exit'];
    if (e !== undefined) {
      const list = Array.isArray(e) ? e : [e];
      if (list.length === 0 || list.some((x) => !Number.isInteger(x) || (x as number) < 0 || (x as number) > 255)) {
        p.add(`${field}.exit`, `expected an exit code 0-255 or a list of them (one per attempt, the last repeating), got ${show(e)}`);
      } else exits = list as number[];
    }
    out.set(key, { minMs: range[0], maxMs: range[1], exits });
  }
  return out;
}

function readFaults(p: Problems, v: unknown, known: (field: string, v: unknown, leader: boolean) => NodeRef | null): TimedFault[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.add('faults', 'expected a list of faults, each with at: and one action');
    return [];
  }
  const out: TimedFault[] = [];
  let last = -1;
  v.forEach((f: unknown, i) => {
    const field = `faults[${i}]`;
    if (!isMapping(f)) {
      p.add(field, `expected { at: 2s, <action>: ... }, got ${show(f)}`);
      return;
    }
    const at = f['at'] === undefined ? null : dur(p, `${field}.at`, f['at']);
    if (f['at'] === undefined) p.add(`${field}.at`, 'missing: when the fault happens, like at: 2s');
    const actions = Object.keys(f).filter((k) => k !== 'at' && k !== 'for' && k !== 'every');
    const kind = actions[0];
    if (actions.length !== 1 || kind === undefined || !FAULT_KINDS.includes(kind)) {
      p.add(field, `expected exactly one action of ${FAULT_KINDS.join(', ')}; got ${actions.length === 0 ? 'none' : actions.join(', ')}`);
      return;
    }
    if (at !== null) {
      if (at < last) p.add(`${field}.at`, `fault times must not go back: ${formatDuration(at)} comes after ${formatDuration(last)}`);
      last = Math.max(last, at);
    }
    const value = f[kind];
    const fieldK = `${field}.${kind}`;
    const nodeSet = (): NodeSet | null => {
      if (value === 'all') return 'all';
      const list = Array.isArray(value) ? value : [value];
      const refs = list.map((x, j) => known(Array.isArray(value) ? `${fieldK}[${j}]` : fieldK, x, true));
      return refs.every((r) => r !== null) ? refs : null;
    };
    const extra = (allowed: readonly string[]): void => {
      for (const k of ['for', 'every']) if (f[k] !== undefined && !allowed.includes(k)) p.add(`${field}.${k}`, `only a flap takes ${k}:`);
    };
    let fault: Fault | null = null;
    switch (kind) {
      case 'partition': {
        extra([]);
        if (!Array.isArray(value) || value.length === 0 || !value.every(Array.isArray)) {
          p.add(fieldK, 'expected a list of groups of nodes, like [[n1, n2], [n3, n4, n5]]');
          break;
        }
        const seen = new Set<string>();
        const groups = (value as unknown[][]).map((g, j) =>
          g.map((x, k) => {
            const r = known(`${fieldK}[${j}][${k}]`, x, false);
            if (r && seen.has(r)) p.add(`${fieldK}[${j}][${k}]`, `${r} is in two groups`);
            if (r) seen.add(r);
            return r;
          }),
        );
        if (groups.every((g) => g.every((r) => r !== null))) fault = { kind, groups };
        break;
      }
      case 'isolate': {
        extra([]);
        const n = known(fieldK, value, true);
        if (n) fault = { kind, node: n };
        break;
      }
      case 'oneway': {
        extra([]);
        if (!isMapping(value)) {
          p.add(fieldK, 'expected { from: n1, to: n2 }: messages from n1 to n2 are dropped');
          break;
        }
        const from = known(`${fieldK}.from`, value['from'], true);
        const to = known(`${fieldK}.to`, value['to'], true);
        if (from && to && from === to) p.add(fieldK, 'from and to are the same node');
        else if (from && to) fault = { kind, from, to };
        break;
      }
      case 'flap': {
        extra(['for', 'every']);
        if (!Array.isArray(value) || value.length !== 2) {
          p.add(fieldK, 'expected two nodes, like flap: [n1, n2], with every: 200ms and for: 5s');
          break;
        }
        const a = known(`${fieldK}[0]`, value[0], true);
        const b = known(`${fieldK}[1]`, value[1], true);
        const everyMs = f['every'] === undefined ? 500 : dur(p, `${field}.every`, f['every']);
        const forMs = f['for'] === undefined ? 5000 : dur(p, `${field}.for`, f['for']);
        if (everyMs !== null && everyMs < 10) p.add(`${field}.every`, 'at least 10ms');
        if (a && b && a === b) p.add(fieldK, 'a link needs two different nodes');
        else if (a && b && everyMs !== null && forMs !== null && everyMs >= 10) fault = { kind, a, b, everyMs, forMs };
        break;
      }
      case 'kill':
      case 'restart':
      case 'pause':
      case 'resume': {
        extra([]);
        const nodes = nodeSet();
        if (nodes) fault = { kind, nodes };
        break;
      }
      case 'loss': {
        extra([]);
        if (typeof value !== 'number' || !(value >= 0 && value <= 0.9))
          p.add(fieldK, `expected a probability from 0 to 0.9, got ${show(value)}`);
        else fault = { kind, rate: value };
        break;
      }
      case 'delay': {
        extra([]);
        const ms = dur(p, fieldK, value);
        if (ms !== null && ms > 10_000) p.add(fieldK, 'at most 10s');
        else if (ms !== null) fault = { kind, ms };
        break;
      }
      case 'skew': {
        extra([]);
        const offsets = readSkew(p, fieldK, value, known);
        if (offsets.size > 0) fault = { kind, offsets };
        break;
      }
      default: {
        extra([]);
        if (value !== true) p.add(fieldK, 'write heal: true');
        else fault = { kind: 'heal' };
      }
    }
    if (fault && at !== null) out.push({ at, fault });
  });
  return out;
}

/** Problems found so far, each prefixed with the file and the field. */
class Problems {
  private readonly list: string[] = [];
  constructor(private readonly source: string) {}
  add(field: string, message: string): void {
    this.list.push(`${this.source}: ${field}: ${message}`);
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new ScenarioError(this.list);
  }
}

function int(p: Problems, field: string, v: unknown, min: number, max: number): number | null {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.add(field, `expected a whole number from ${min} to ${max}, got ${show(v)}`);
    return null;
  }
  return v;
}

function dur(p: Problems, field: string, v: unknown): number | null {
  if (typeof v !== 'string') {
    p.add(field, `expected a duration like 250ms, 2s or 1m, got ${show(v)}`);
    return null;
  }
  try {
    const ms = parseDuration(v);
    if (ms > MAX_SIM_MS) {
      p.add(field, `${v} is longer than the simulator's hour`);
      return null;
    }
    return ms;
  } catch (err) {
    p.add(field, errorMessage(err));
    return null;
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
