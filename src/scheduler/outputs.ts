// Outputs between tasks (docs/task-environment.md §7): a successful attempt's output is committed
// with its finish and kept by the job (Job.outputs), so every replica hands a dependent the same
// $MESHRUN_INPUTS, whichever node runs it and whichever ran its upstream tasks.
import type { Reader, Writer } from '../codec/binary.js';
import type { Job } from './job.js';
import { OUTPUT_BYTES } from './types.js';

/**
 * The committed outputs of `task`'s direct upstream tasks, by full task name (`name[i]` for a
 * shard). An upstream task that did not succeed (a trigger rule let the task run anyway) has none.
 * Walks whichever is smaller, the job's outputs or the upstream tasks, so a dependent of a
 * 1,000,000-shard spec that wrote nothing costs nothing.
 */
export function inputsOf(job: Job, task: number): Record<string, string> {
  const inputs: Record<string, string> = {};
  // The common case, a job whose tasks hand nothing on, costs one look (every task start asks).
  if (job.outputs.size === 0) return inputs;
  const spec = job.specOf(task);
  const deps = job.depTargets.subarray(job.depOffsets[spec], job.depOffsets[spec + 1]);
  if (deps.length === 0) return inputs;
  const add = (t: number): void => {
    const out = job.outputs.get(t);
    // defineProperty: a task called `__proto__` is an ordinary key.
    if (out !== undefined)
      Object.defineProperty(inputs, job.taskName(t), { value: out, enumerable: true, writable: true, configurable: true });
  };
  const upstream = deps.reduce((n, d) => n + (job.specStart[d + 1] as number) - (job.specStart[d] as number), 0);
  if (upstream <= job.outputs.size) {
    for (const d of deps) for (let t = job.specStart[d] as number; t < (job.specStart[d + 1] as number); t++) add(t);
  } else {
    const depSet = new Set(deps);
    for (const t of [...job.outputs.keys()].sort((a, b) => a - b)) if (depSet.has(job.specOf(t))) add(t);
  }
  return inputs;
}

// --- snapshots (snapshot-codec.ts, format 4) -----------------------------------------------------

/** Every task's committed output, by task index, in the canonical order. */
export function writeOutputs(w: Writer, outputs: ReadonlyMap<number, string>): void {
  const tasks = [...outputs.keys()].sort((a, b) => a - b);
  w.varint(tasks.length, 'outputs');
  for (const task of tasks) {
    w.varint(task, 'output task');
    w.string(outputs.get(task) ?? '');
  }
}

/** Reads what writeOutputs wrote for a job of `size` tasks; `fail` throws. */
export function readOutputs(r: Reader, size: number, fail: (problem: string) => never): Map<number, string> {
  const outputs = new Map<number, string>();
  const count = r.count('outputs', 2);
  let last = -1;
  for (let i = 0; i < count; i++) {
    const task = r.varint('output task');
    if (task <= last || task >= size) fail(`output of task ${task} is out of order or range`);
    last = task;
    const text = r.string('output', OUTPUT_BYTES);
    if (text === '') fail(`output of task ${task} is empty (an empty output is not kept)`);
    outputs.set(task, text);
  }
  return outputs;
}
