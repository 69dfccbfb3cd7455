// Outputs between tasks on the executor (docs/task-environment.md §7): a shell task writes
// $MESHRUN_OUTPUT and reads $MESHRUN_INPUTS; a handler resolves with its output and sees its inputs;
// anything that cannot be handed on (over 64 KiB, not UTF-8 text, not a string) fails the attempt.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTPUT_BYTES } from '../../src/scheduler/types.js';
import { createExecutor, type RunningExecutor } from '../../src/worker/executor.js';
import { HandlerRegistry, type Handler } from '../../src/worker/handlers.js';
import { handler, runTask, shell, within } from '../fixtures/executor-helpers.js';

const dirs: string[] = [];
const executors: RunningExecutor[] = [];

async function executor(handlers?: HandlerRegistry): Promise<{ ex: RunningExecutor; dataDir: string }> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'meshrun-task-io-'));
  dirs.push(dataDir);
  const ex = await createExecutor({ dataDir, nodeId: 'node-io', killGraceMs: 500, ...(handlers ? { handlers } : {}) });
  executors.push(ex);
  return { ex, dataDir };
}

afterEach(async () => {
  await Promise.all(executors.splice(0).map((ex) => within(ex.close(), 10_000, 'executor close')));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const inputs = { 'extract[0]': 'rows=3', load: 'ünï "quoted"\n' };

describe('shell tasks', () => {
  it('read $MESHRUN_INPUTS as JSON and hand on what they write to $MESHRUN_OUTPUT; the files are gone after', async () => {
    const { ex, dataDir } = await executor();
    const r = await runTask(ex, shell('cat "$MESHRUN_INPUTS" > "$MESHRUN_OUTPUT"; printf " and more" >> "$MESHRUN_OUTPUT"', { inputs }));
    expect(r.outcome).toBe('succeeded');
    expect(r.output).toBe(`${JSON.stringify(inputs)} and more`);
    expect(readdirSync(join(dataDir, 'task-io'))).toEqual([]);
  });

  it('without upstream outputs $MESHRUN_INPUTS holds {}; nothing written is no output', async () => {
    const { ex } = await executor();
    const r = await runTask(ex, shell('test "$(cat "$MESHRUN_INPUTS")" = "{}"'));
    expect(r.outcome).toBe('succeeded');
    expect(r.output).toBeUndefined();
  });

  it('exactly 64 KiB is handed on; one byte more fails the attempt naming the limit', async () => {
    const { ex } = await executor();
    const fits = await runTask(ex, shell(`head -c ${OUTPUT_BYTES} /dev/zero | tr '\\0' x > "$MESHRUN_OUTPUT"`));
    expect(fits.outcome).toBe('succeeded');
    expect(fits.output?.length).toBe(OUTPUT_BYTES);
    const over = await runTask(ex, shell(`head -c ${OUTPUT_BYTES + 1} /dev/zero | tr '\\0' x > "$MESHRUN_OUTPUT"`));
    expect(over.outcome).toBe('failed');
    expect(over.output).toBeUndefined();
    expect(over.stderr).toContain('$MESHRUN_OUTPUT holds 65537 bytes, more than the 65536 (64 KiB) a task may hand on');
  });

  it('bytes that are not UTF-8 fail the attempt; a failed attempt hands nothing on', async () => {
    const { ex } = await executor();
    const bad = await runTask(ex, shell(`printf '\\377\\376' > "$MESHRUN_OUTPUT"`));
    expect(bad.outcome).toBe('failed');
    expect(bad.stderr).toContain('$MESHRUN_OUTPUT is not UTF-8 text');
    const failed = await runTask(ex, shell('echo partial > "$MESHRUN_OUTPUT"; exit 3'));
    expect(failed).toMatchObject({ outcome: 'failed', exitCode: 3 });
    expect(failed.output).toBeUndefined();
  });

  it('what an earlier run of the node left under task-io is removed when the executor starts', async () => {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'meshrun-task-io-'));
    dirs.push(dataDir);
    mkdirSync(join(dataDir, 'task-io', 'old', 'a.1'), { recursive: true });
    writeFileSync(join(dataDir, 'task-io', 'old', 'a.1', 'output'), 'stale');
    executors.push(await createExecutor({ dataDir, nodeId: 'node-io', killGraceMs: 500 }));
    expect(existsSync(join(dataDir, 'task-io'))).toBe(false);
  });
});

describe('handler tasks', () => {
  it('see their inputs and hand on the string they resolve with', async () => {
    let seen: unknown = null;
    const echo: Handler = ({ inputs: given }) => {
      seen = given;
      return Promise.resolve(`got ${Object.keys(given).length}`);
    };
    const { ex } = await executor(new HandlerRegistry().register('echo', echo));
    const r = await runTask(ex, handler('echo', null, { inputs }));
    expect(seen).toEqual(inputs);
    expect(r).toMatchObject({ outcome: 'succeeded', output: 'got 2' });
  });

  it('fail when they resolve with something that is not a string, or with more than 64 KiB', async () => {
    const registry = new HandlerRegistry()
      .register('object', () => Promise.resolve({ rows: 3 }))
      .register('huge', () => Promise.resolve('é'.repeat(OUTPUT_BYTES / 2 + 1)));
    const { ex } = await executor(registry);
    const object = await runTask(ex, handler('object'));
    expect(object.outcome).toBe('failed');
    expect(object.stderr).toContain("handler object resolved with an object; a handler's output is a string (or nothing)");
    const huge = await runTask(ex, handler('huge'));
    expect(huge.outcome).toBe('failed');
    expect(huge.stderr).toContain('handler huge returned an output of 65538 bytes, more than the 65536 (64 KiB) a task may hand on');
  });
});
