// The graph rules of a job, shared by the DAG file reader and the state machine's re-check:
// unique names, deps that name other specs of the same job, no self or duplicate deps, no
// cycles. Linear in specs + deps and free of recursion, so a 10,000-deep chain is fine.
import { at, known } from '../invariant.js';
import { DAG_LIMITS, fmt } from './dag-limits.js';
import { didYouMean } from './suggest.js';

export interface GraphSpec {
  readonly name: string;
  readonly deps: readonly string[];
}

/** A problem at spec `spec` (an index), about its dep at position `dep` when not null. */
export interface GraphProblem {
  readonly spec: number;
  readonly dep: number | null;
  readonly message: string;
}

/** Cycles shown per job: they often share tasks, and one is enough to start fixing. */
const MAX_CYCLES = 5;
/** Longer cycle paths show their start and end around an elision. */
const MAX_PATH_SHOWN = 30;
/** Looking for a near-miss among many names costs more than the hint is worth. */
const MAX_NAMES_FOR_HINTS = 5000;

/** Calls `report` for each problem found, in spec order, then cycles; `report` returns false to stop early. */
export function checkGraph(specs: readonly GraphSpec[], report: (p: GraphProblem) => boolean): void {
  const n = specs.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const name = at(specs, i, 'a spec').name;
    const first = index.get(name);
    if (first === undefined) index.set(name, i);
    else if (!report({ spec: i, dep: null, message: `task name '${name}' is used twice (specs ${first} and ${i})` })) return;
  }

  // Resolved deps in compressed rows: targets[offsets[i] .. offsets[i+1]) are spec i's deps,
  // depPos the position of each in the spec's own list (for error locations).
  let edges = 0;
  for (const s of specs) edges += s.deps.length;
  const offsets = new Int32Array(n + 1);
  const targets = new Int32Array(edges);
  const depPos = new Int32Array(edges);
  const seenBy = new Int32Array(n).fill(-1);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const s = at(specs, i, 'a spec');
    offsets[i] = e;
    // Indexed, not entries(): no pair allocated per dep of a 100,000-dep job.
    for (let k = 0; k < s.deps.length; k++) {
      const dep = at(s.deps, k, 'k < deps.length');
      const j = index.get(dep);
      let problem: string | null = null;
      if (j === undefined) {
        const shardOf = /^(.+)\[\d+\]$/.exec(dep)?.[1];
        if (shardOf !== undefined && index.has(shardOf)) {
          problem = `task '${s.name}' depends on '${dep}', a single shard: deps name whole tasks, and a dep on '${shardOf}' waits for all its shards`;
        } else {
          const hint = n <= MAX_NAMES_FOR_HINTS ? didYouMean(dep, index.keys()) : '';
          problem = `task '${s.name}' depends on unknown task '${dep}'${hint}`;
        }
      } else if (j === i) problem = `task '${s.name}' depends on itself`;
      else if (seenBy[j] === i) problem = `task '${s.name}' lists dependency '${dep}' twice`;
      if (problem !== null) {
        if (!report({ spec: i, dep: k, message: problem })) return;
        continue;
      }
      const target = known(j, 'an unknown dep was reported above');
      seenBy[target] = i;
      targets[e] = target;
      depPos[e] = k;
      e++;
    }
  }
  offsets[n] = e;
  findCycles(specs, offsets, targets, depPos, report);
}

/** Iterative depth-first search along dep edges; a dep on a task still on the stack closes a cycle. */
function findCycles(
  specs: readonly GraphSpec[],
  offsets: Int32Array,
  targets: Int32Array,
  depPos: Int32Array,
  report: (p: GraphProblem) => boolean,
): void {
  const n = specs.length;
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = new Uint8Array(n);
  const stackNode = new Int32Array(n);
  const stackEdge = new Int32Array(n);
  const stackPos = new Int32Array(n);
  let cycles = 0;
  for (let root = 0; root < n; root++) {
    if (color[root] !== WHITE) continue;
    let sp = 0;
    color[root] = GREY;
    stackPos[root] = 0;
    stackNode[0] = root;
    stackEdge[0] = at(offsets, root, 'a spec (offsets)');
    sp = 1;
    while (sp > 0) {
      const v = at(stackNode, sp - 1, 'the top of the stack');
      const edge = at(stackEdge, sp - 1, 'the top of the stack');
      if (edge === offsets[v + 1]) {
        color[v] = BLACK;
        sp--;
        continue;
      }
      stackEdge[sp - 1] = edge + 1;
      const w = at(targets, edge, 'an edge');
      if (color[w] === WHITE) {
        color[w] = GREY;
        stackPos[w] = sp;
        stackNode[sp] = w;
        stackEdge[sp] = at(offsets, w, 'a spec (offsets)');
        sp++;
      } else if (color[w] === GREY) {
        const start = at(stackPos, w, 'a grey spec is on the stack');
        const path: number[] = Array.from(stackNode.subarray(start, sp));
        // The cycle is reported at its first task's dep on the second (the edge that leaves it).
        const from = at(path, 0, 'a cycle has a spec');
        const firstEdge = start + 1 < sp ? at(stackEdge, start, 'a stack slot') - 1 : edge;
        const message = `cycle: ${cyclePath(specs, path)} (each task depends on the next)`;
        cycles++;
        if (!report({ spec: from, dep: at(depPos, firstEdge, 'an edge'), message })) return;
        if (cycles >= MAX_CYCLES) return;
      }
    }
  }
}

function cyclePath(specs: readonly GraphSpec[], path: readonly number[]): string {
  const names = path.map((i) => at(specs, i, 'a spec').name);
  names.push(at(names, 0, 'a cycle has a spec'));
  if (names.length <= MAX_PATH_SHOWN) return names.join(' -> ');
  const head = names.slice(0, MAX_PATH_SHOWN / 2);
  const tail = names.slice(names.length - MAX_PATH_SHOWN / 2);
  return `${head.join(' -> ')} -> ... (${fmt(names.length - MAX_PATH_SHOWN)} more) ... -> ${tail.join(' -> ')}`;
}

/** Problems with the job's size that make looking further pointless or costly. */
export function sizeProblem(specCount: number, depCount: number): string | null {
  if (specCount > DAG_LIMITS.maxSpecs) return `${fmt(specCount)} tasks in one job (at most ${fmt(DAG_LIMITS.maxSpecs)})`;
  if (depCount > DAG_LIMITS.maxDeps) return `${fmt(depCount)} dependencies in one job (at most ${fmt(DAG_LIMITS.maxDeps)})`;
  return null;
}
