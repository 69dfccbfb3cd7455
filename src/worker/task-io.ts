// The files through which a `run` task's shell hands a value to its dependents and reads its
// upstream tasks' values (docs/task-environment.md §7): per attempt, a directory
// <dataDir>/task-io/<job>.<task>.<attempt>/ (job ids hold no dot) holding `inputs.json` ($MESHRUN_INPUTS, written before
// the shell starts) and `output` ($MESHRUN_OUTPUT, read once it has ended). The directory is
// removed when the attempt ends, and the whole tree when the executor starts (what an earlier run
// of the node left).
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT_BYTES, type TaskLaunch } from '../scheduler/types.js';
import { checkedLogName } from './task-env.js';

const TREE = 'task-io';
/** Fatal: bytes that are not UTF-8 are refused, not replaced (a replacement could also pass the byte limit). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What an ended attempt wrote to $MESHRUN_OUTPUT: its text (absent: nothing), or why it cannot be handed on. */
export type CollectedOutput = { readonly ok: true; readonly output?: string } | { readonly ok: false; readonly problem: string };

export interface TaskIo {
  /** MESHRUN_INPUTS and MESHRUN_OUTPUT, for the shell's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Reads $MESHRUN_OUTPUT (at most OUTPUT_BYTES) and removes the attempt's directory. */
  collect(): CollectedOutput;
  /** Removes the attempt's directory without reading it. */
  discard(): void;
}

/** Removes every attempt's files left by an earlier run of this node (nothing of this run has started yet). */
export function clearTaskIo(dataDir: string): void {
  rmSync(join(dataDir, TREE), { recursive: true, force: true });
}

/** Creates the attempt's directory with its inputs file; throws (with the path) when the disk refuses. */
export function prepareTaskIo(dataDir: string, launch: TaskLaunch): TaskIo {
  const { job, task } = checkedLogName(launch.job, launch.name, launch.attempt);
  const dir = join(dataDir, TREE, `${job}.${task}.${launch.attempt}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const inputs = join(dir, 'inputs.json');
  const output = join(dir, 'output');
  writeFileSync(inputs, JSON.stringify(launch.inputs ?? {}));
  const discard = (): void => rmSync(dir, { recursive: true, force: true });
  return {
    env: { MESHRUN_INPUTS: inputs, MESHRUN_OUTPUT: output },
    collect: () => {
      try {
        return readOutput(output);
      } finally {
        discard();
      }
    },
    discard,
  };
}

/** The file's text when it holds at most OUTPUT_BYTES; a missing or empty file is no output. */
function readOutput(path: string): CollectedOutput {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true };
    return { ok: false, problem: `cannot read $MESHRUN_OUTPUT (${path}): ${(err as Error).message}` };
  }
  try {
    const size = fstatSync(fd).size;
    if (size > OUTPUT_BYTES)
      return { ok: false, problem: `$MESHRUN_OUTPUT holds ${size} bytes, more than the ${OUTPUT_BYTES} (64 KiB) a task may hand on` };
    const buf = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buf, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    let text: string;
    try {
      text = UTF8.decode(buf.subarray(0, read));
    } catch {
      return { ok: false, problem: `$MESHRUN_OUTPUT is not UTF-8 text (a task hands on text; base64 would carry bytes)` };
    }
    return text === '' ? { ok: true } : { ok: true, output: text };
  } finally {
    closeSync(fd);
  }
}
