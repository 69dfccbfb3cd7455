// The DAG shapes the scheduler benchmarks submit (issue 16): distinct independent tasks, a layered
// DAG of distinct tasks, one sharded spec, a chain. Plain objects in the shape of a DAG file
// (docs/dag-file.md), posted as JSON or written as YAML.

export interface TaskSpec {
  readonly handler?: string;
  readonly run?: string;
  readonly args?: { readonly ms: number };
  readonly deps?: readonly string[];
  readonly shards?: number;
}

export interface Dag {
  readonly name: string;
  readonly tasks: Readonly<Record<string, TaskSpec>>;
}

/** `n` distinct `noop` tasks with no edges: one spec per task, unlike `shards`. */
export function distinct(n: number): Dag {
  const tasks: Record<string, TaskSpec> = {};
  for (let i = 0; i < n; i++) tasks[`t${i}`] = { handler: 'noop' };
  return { name: 'distinct', tasks };
}

/** One `noop` spec with `n` shards: the cheapest shape, one spec for every task. */
export function sharded(n: number): Dag {
  return { name: 'shards', tasks: { t: { handler: 'noop', shards: n } } };
}

/** `n` `noop` tasks, each on the one before. */
export function chain(n: number): Dag {
  const tasks: Record<string, TaskSpec> = {};
  for (let i = 0; i < n; i++) tasks[`c${i}`] = { handler: 'noop', ...(i > 0 ? { deps: [`c${i - 1}`] } : {}) };
  return { name: 'chain', tasks };
}

/** `depth` layers of `width` distinct `noop` tasks, each on two neighbours of the layer before. */
export function layers(depth: number, width: number): Dag {
  const tasks: Record<string, TaskSpec> = {};
  for (let l = 0; l < depth; l++) {
    for (let i = 0; i < width; i++) {
      const deps = l === 0 ? [] : [...new Set([`l${l - 1}_${i}`, `l${l - 1}_${(i + 1) % width}`])];
      tasks[`l${l}_${i}`] = { handler: 'noop', ...(deps.length > 0 ? { deps } : {}) };
    }
  }
  return { name: 'layers', tasks };
}

/** Tasks the DAG stands for once shards are expanded. */
export function taskCount(dag: Dag): number {
  return Object.values(dag.tasks).reduce((n, t) => n + (t.shards ?? 1), 0);
}

/**
 * The DAG as YAML, one task per line in flow style (what a generated workflow file looks like).
 * Names and handlers are plain scalars of `[A-Za-z0-9_.-]`, so nothing needs quoting.
 */
export function toYaml(dag: Dag): string {
  const lines = [`name: ${dag.name}`, 'tasks:'];
  for (const [name, t] of Object.entries(dag.tasks)) {
    const fields: string[] = [];
    if (t.handler !== undefined) fields.push(`handler: ${t.handler}`);
    if (t.run !== undefined) fields.push(`run: ${JSON.stringify(t.run)}`);
    if (t.args !== undefined) fields.push(`args: { ms: ${t.args.ms} }`);
    if (t.deps !== undefined) fields.push(`deps: [${t.deps.join(', ')}]`);
    if (t.shards !== undefined) fields.push(`shards: ${t.shards}`);
    lines.push(`  ${name}: { ${fields.join(', ')} }`);
  }
  return lines.join('\n') + '\n';
}
