// DAG files (docs/dag-file.md §1) in, JobSpecs out: `meshrun submit` reads a YAML or JSON file with
// parseDagText and the API hands the JSON body of POST /v1/jobs to normalizeDagInSlices. This is the
// front end for people (zod, YAML, did-you-mean hints, places in the file); the state machine
// re-checks a decoded submit with its own checkJobSpec (src/scheduler/dag-check.ts) and never
// imports from here. The pieces live in read.ts, schema.ts, duration.ts and strict-json.ts; big
// files take a fast reader first (strict JSON, flat YAML (flat-yaml.ts), or plain YAML through js-yaml).
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import type * as Yaml from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { errorMessage } from '../errors.js';
import { DAG_LIMITS, MAX_REPORTED_PROBLEMS, fmt, utf8Length } from '../scheduler/dag-limits.js';
import { Problems, formatProblem, type PathKey, type Problem } from '../scheduler/problems.js';
import type { JobSpec } from '../scheduler/types.js';
import { readDag, readDagSteps } from './read.js';
import { readFlatYaml } from './flat-yaml.js';
import { parseStrictJson } from './strict-json.js';

export { TASK_DEFAULTS } from './schema.js';

// The two YAML libraries load on first use (their CommonJS builds, so that the readers stay
// synchronous): a file the JSON or flat reader takes needs neither, and loading them was some
// 30-70 ms of every `meshrun submit` and `validate`.
const require = createRequire(import.meta.url);
let jsYamlLib: typeof JsYaml | undefined;
let yamlLib: typeof Yaml | undefined;
const jsYaml = (): typeof JsYaml => (jsYamlLib ??= require('js-yaml') as typeof JsYaml);
const yaml = (): typeof Yaml => (yamlLib ??= require('yaml') as typeof Yaml);

/** An invalid DAG: `problems` each name the place (`tasks.load.deps[0]: ...`); the message joins them. */
export class DagError extends Error {
  override readonly name = 'DagError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

/** A parsed DAG (the JSON body of POST /v1/jobs, say) to a JobSpec; throws DagError. */
export function normalizeDag(raw: unknown): JobSpec {
  const r = readDag(raw, null);
  if (r.spec === null) throw new DagError(r.problems.render());
  return r.spec;
}

/**
 * normalizeDag for a server: the event loop runs between slices of the work (`pause` resolves when
 * it may go on: setImmediate's promise, say), so a big DAG does not stall the node (issue 16).
 */
export async function normalizeDagInSlices(raw: unknown, pause: () => Promise<void>): Promise<JobSpec> {
  const steps = readDagSteps(raw, null);
  for (;;) {
    const step = steps.next();
    if (step.done === true) {
      if (step.value.spec === null) throw new DagError(step.value.problems.render());
      return step.value.spec;
    }
    await pause();
  }
}

/** YAML aliases expand when converted; this many keeps a small file from becoming a huge value. */
const MAX_ALIASES = 100;

/** A DAG file's text (YAML, or JSON, which is YAML too) to a JobSpec; problems are prefixed `source:line:col`. */
export function parseDagText(text: string, source: string): JobSpec {
  return readDagText(text, source).spec;
}

/** A valid DAG file read: its JobSpec, and the file's own structure (what POST /v1/jobs takes). */
export interface DagFile {
  readonly spec: JobSpec;
  readonly raw: unknown;
}

/**
 * parseDagText, keeping the structure the file was read into, so that `meshrun submit` posts it
 * without reading the text a second time (the document reader takes tens of seconds on a file
 * of 50,000 tasks; issue 16).
 */
export function readDagText(text: string, source: string): DagFile {
  if (text.trim() === '') throw new DagError([`${source}: the file is empty: expected a mapping with name and tasks`]);
  const bytes = utf8Length(text);
  if (bytes > DAG_LIMITS.maxFileBytes) {
    throw new DagError([
      `${source}: the file is ${fmt(bytes)} bytes (at most ${fmt(DAG_LIMITS.maxFileBytes)}); use shards for many similar tasks, or split the job`,
    ]);
  }
  // The fast readers first (strict JSON, the flat YAML of machine-written files, then plain YAML
  // through js-yaml); a file with problems is read again
  // by the document reader below, which can say where in the text they are.
  const json = parseStrictJson(text);
  const flat = json === undefined ? readFlatYaml(text) : undefined;
  const plain = json ?? flat ?? loadPlainYaml(text);
  // The flat reader takes no task name that is integer-like (they start with a letter or _).
  if (plain !== undefined && (flat !== undefined || !hasIntegerLikeTaskName(plain))) {
    const fast = readDag(plain, null);
    if (fast.spec !== null) return { spec: fast.spec, raw: plain };
  }
  const { LineCounter, isMap, parseDocument } = yaml();
  const lines = new LineCounter();
  // uniqueKeys off: duplicates are found below, with a message that names the key.
  // logLevel error: the library's warnings (an unknown tag, say) would go to the console, not to the user's report.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, logLevel: 'error' });
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${source}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new DagError(doc.errors.slice(0, MAX_REPORTED_PROBLEMS).map((e) => `${at(e.pos[0])}: ${e.message.split('\n')[0] ?? e.message}`));
  }
  const duplicates = findDuplicateKeys(doc);
  const showDuplicate = (p: Problem): string => `${at(offsetOf(doc, p.path, true))}: ${formatProblem(p)}`;
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new DagError([...duplicates.render(showDuplicate), `${source}: ${errorMessage(err)}`]);
  }
  const tasks = doc.get('tasks', true);
  const order = isMap(tasks) ? tasks.items.map((pair) => keyText(pair.key)) : null;
  // With repeated keys the last one wins in `raw`; its problems are reported too, so that one
  // round of fixes can address everything.
  const r = readDag(raw, order);
  if (duplicates.count === 0 && r.spec !== null) return { spec: r.spec, raw };
  const isDuplicate = new Set(duplicates.list);
  duplicates.addAll(r.problems);
  throw new DagError(
    duplicates.render((p: Problem) => (isDuplicate.has(p) ? showDuplicate(p) : `${at(offsetOf(doc, p.path, false))}: ${formatProblem(p)}`)),
  );
}

/**
 * Where a YAML node can carry an anchor (`&a`), an alias (`*a`) or a tag (`!!str`, `!x`): after
 * a line start, a space or a flow indicator. It also matches text that only looks like one (`rm
 * *.tmp`), which is fine: such a file just takes the slower reader.
 */
const NODE_PROPERTY = /(?:^|[\s[{,])[&*!]\S/m;
/** A `%YAML 1.1` or `%TAG` directive changes how scalars read. */
const DIRECTIVE = /^%/m;

/**
 * The fast reader for the common file, js-yaml with YAML 1.2's core schema: several times quicker
 * than the document reader below on big files (a 30,000-task file: about 0.4 s against 5 s), but it
 * keeps no places in the text, so it only serves a file that is valid as it stands. It is used
 * only where both readers agree on every value (test/dag/yaml-readers.test.ts): plain scalars,
 * quotes, flow and block collections; no tags (js-yaml reads `!!float 1` as a number, the document
 * reader leaves it a string), anchors or aliases (one object shared between places, which the
 * document reader bounds with maxAliasCount), or directives. Anything it refuses, a repeated key
 * among them, goes to the document reader, which says where the problem is.
 */
function loadPlainYaml(text: string): unknown {
  if (NODE_PROPERTY.test(text) || DIRECTIVE.test(text)) return undefined;
  try {
    const { CORE_SCHEMA, load } = jsYaml();
    return load(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
}

/**
 * JSON.parse and js-yaml put integer-like keys ("1", "10") before all others whatever their place in
 * the file, so the first key says whether there are any; the document reader keeps file order.
 */
function hasIntegerLikeTaskName(raw: unknown): boolean {
  const tasks = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['tasks'] : undefined;
  if (typeof tasks !== 'object' || tasks === null) return false;
  for (const k in tasks) return /^(0|[1-9]\d*)$/.test(k);
  return false;
}

/** How a map key reads as a JavaScript property name once the document is converted. */
function keyText(key: unknown): string {
  const { isScalar } = yaml();
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Keys repeated in one mapping. Keys are compared as the text they become, so `1` and `"1"`
 * clash too: both would become the property "1" and one would silently win.
 */
function findDuplicateKeys(doc: Document): Problems {
  const { isMap, isSeq } = yaml();
  const problems = new Problems();
  // An explicit stack: a deeply nested document must not overflow the call stack.
  const stack: { node: unknown; path: PathKey[] }[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: PathKey[] };
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        if (seen.has(key)) {
          const where = path.length === 0 ? 'at the top level' : 'here';
          if (!problems.add([...path, key], `duplicate key '${key}' ${where}: each key may appear once in a mapping`)) return problems;
        }
        seen.add(key);
      }
      // Children pushed last-first, so they are visited in file order.
      for (let i = node.items.length - 1; i >= 0; i--) {
        const pair = node.items[i] as (typeof node.items)[number];
        stack.push({ node: pair.value, path: [...path, keyText(pair.key)] });
      }
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], path: [...path, i] });
    }
  }
  return problems;
}

/**
 * Where a problem's path points in the text: the deepest node the path reaches. `lastKey` picks
 * the last mapping key (for duplicates, the second occurrence) rather than its value.
 */
function offsetOf(doc: Document, path: readonly PathKey[], lastKey: boolean): number {
  const { isMap, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pairs = node.items.filter((p) => keyText(p.key) === String(key));
      const pair = lastKey && last ? pairs[pairs.length - 1] : pairs[0];
      if (pair === undefined) break;
      // A scalar value is the precise place; for a collection, its key line reads better.
      const target = last && !lastKey && isScalar(pair.value) ? pair.value : pair.key;
      offset = rangeStart(target) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset;
}

function rangeStart(node: unknown): number | null {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? range[0] : null;
}
