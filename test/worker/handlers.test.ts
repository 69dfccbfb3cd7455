// Handler tasks: the registry's rules, the built-ins, failures, timeouts and stops, and that a
// handler task which logs nothing touches no file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor, type RunningExecutor } from '../../src/worker/executor.js';
import type { Json } from '../../src/scheduler/types.js';
import { HandlerRegistry, builtinHandlers, type Handler } from '../../src/worker/handlers.js';
import { handler, runTask, startTask, within } from '../fixtures/executor-helpers.js';

const dirs: string[] = [];
const executors: RunningExecutor[] = [];

async function executor(handlers?: HandlerRegistry): Promise<{ ex: RunningExecutor; dataDir: string }> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'meshrun-handlers-'));
  dirs.push(dataDir);
  const ex = await createExecutor({ dataDir, nodeId: 'node-h', killGraceMs: 500, ...(handlers ? { handlers } : {}) });
  executors.push(ex);
  return { ex, dataDir };
}

afterEach(async () => {
  await Promise.all(executors.splice(0).map((ex) => within(ex.close(), 10_000, 'executor close')));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('HandlerRegistry', () => {
  it('holds the built-ins, sorted', () => {
    expect(builtinHandlers().names()).toEqual(['noop', 'sleep']);
  });

  it('rejects a duplicate name', () => {
    const registry = builtinHandlers();
    expect(() => registry.register('noop', () => Promise.resolve())).toThrow(/already registered/);
  });

  it('rejects bad names', () => {
    const registry = new HandlerRegistry();
    for (const bad of ['', '1st', 'has space', 'semi;colon', 'x'.repeat(65), 'ünï']) {
      expect(() => registry.register(bad, () => Promise.resolve()), JSON.stringify(bad)).toThrow(/invalid handler name/);
    }
    registry.register('Resize_image.v2-fast', () => Promise.resolve());
    expect(registry.names()).toEqual(['Resize_image.v2-fast']);
  });

  it('is what the executor advertises', async () => {
    const registry = builtinHandlers().register('extra', () => Promise.resolve());
    const { ex } = await executor(registry);
    expect(ex.handlers).toEqual(['extra', 'noop', 'sleep']);
  });
});

describe('built-in handlers', () => {
  it('noop succeeds asynchronously, once, without touching the disk', async () => {
    const { ex, dataDir } = await executor();
    const started = startTask(ex, handler('noop'));
    expect(started.calledSynchronously).toBe(false);
    expect(await started.result).toEqual({ outcome: 'succeeded', exitCode: null, durationMs: expect.any(Number), stdout: '', stderr: '' });
    expect(started.calls()).toBe(1);
    expect(existsSync(join(dataDir, 'logs'))).toBe(false);
  });

  it('sleep waits for args.ms', async () => {
    const { ex } = await executor();
    const r = await runTask(ex, handler('sleep', { ms: 100 }));
    expect(r.outcome).toBe('succeeded');
    // Generous: timers may fire a little early in ms rounding, never much.
    expect(r.durationMs).toBeGreaterThanOrEqual(90);
  });

  it('sleep refuses bad args', async () => {
    const { ex } = await executor();
    const bad: readonly Json[] = [null, { ms: -1 }, { ms: 'soon' }, { seconds: 1 }, [100]];
    for (const args of bad) {
      const r = await runTask(ex, handler('sleep', args));
      expect(r.outcome, JSON.stringify(args)).toBe('failed');
      expect(r.stderr).toMatch(/sleep: args must be \{ ms: N \}/);
    }
  });

  it('sleep past its timeout reports timeout at once', async () => {
    const { ex } = await executor();
    const r = await runTask(ex, handler('sleep', { ms: 60_000 }, { timeoutMs: 100 }));
    expect(r).toMatchObject({ outcome: 'timeout', exitCode: null });
    expect(r.stderr).toMatch(/timed out after 100 ms/);
  });

  it('an unknown handler fails the attempt', async () => {
    const { ex } = await executor();
    const started = startTask(ex, handler('nope'));
    expect(started.calledSynchronously).toBe(false);
    const r = await started.result;
    expect(r.outcome).toBe('failed');
    expect(r.stderr).toMatch(/no handler named "nope"/);
  });
});

describe('custom handlers', () => {
  it('a handler that throws or rejects fails with its message', async () => {
    const registry = new HandlerRegistry()
      .register('throws', () => {
        throw new Error('bad input: no rows');
      })
      .register('rejects', async () => {
        await pause(1);
        throw new Error('upstream said 503');
      });
    const { ex } = await executor(registry);
    const thrown = await runTask(ex, handler('throws'));
    expect(thrown.outcome).toBe('failed');
    expect(thrown.stderr).toContain('bad input: no rows');
    const rejected = await runTask(ex, handler('rejects'));
    expect(rejected.outcome).toBe('failed');
    expect(rejected.stderr).toContain('upstream said 503');
  });

  it('sees args, the contract variables and the task env; logs go to the log file and stdout tail', async () => {
    let seen: { args: unknown; env: Readonly<Record<string, string>> } | null = null;
    const record: Handler = async ({ args, env, log }) => {
      seen = { args, env };
      log('first line');
      log('second line\n');
    };
    const { ex, dataDir } = await executor(new HandlerRegistry().register('record', record));
    const r = await runTask(
      ex,
      handler('record', { n: 1 }, { job: 'jh', name: 'part[1]', attempt: 4, fence: 99, shard: 1, shards: 2, env: { K: 'v' } }),
    );
    expect(r).toMatchObject({ outcome: 'succeeded', stdout: 'first line\nsecond line\n' });
    expect(seen).toEqual({
      args: { n: 1 },
      env: {
        K: 'v',
        MESHRUN_JOB: 'jh',
        MESHRUN_TASK: 'part[1]',
        MESHRUN_ATTEMPT: '4',
        MESHRUN_NODE: 'node-h',
        MESHRUN_FENCE: '99',
        MESHRUN_SHARD: '1',
        MESHRUN_SHARDS: '2',
      },
    });
    expect(readFileSync(join(dataDir, 'logs', 'jh', 'part[1].4.log'), 'utf8')).toBe('first line\nsecond line\n');
  });

  it('on timeout the signal aborts, and whatever the handler does later is ignored', async () => {
    let aborted = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Ignores the signal and only ends when the test lets it, after the timeout was reported.
    const stubborn: Handler = async ({ signal, log }) => {
      signal.addEventListener('abort', () => (aborted = true));
      await released;
      log('too late');
      throw new Error('too late');
    };
    const { ex } = await executor(new HandlerRegistry().register('stubborn', stubborn));
    const started = startTask(ex, handler('stubborn', null, { timeoutMs: 30 }));
    const r = await started.result;
    expect(r.outcome).toBe('timeout');
    expect(aborted).toBe(true);
    release();
    await pause(50);
    expect(started.calls()).toBe(1);
    expect(r.stdout).toBe('');
    expect(ex.running).toBe(0);
  });

  it('stop() aborts the signal and fails the attempt with the reason', async () => {
    let reason: unknown = null;
    const waits: Handler = ({ signal }) =>
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          reason = signal.reason;
          reject(new Error('aborted'));
        }),
      );
    const { ex } = await executor(new HandlerRegistry().register('waits', waits));
    const started = startTask(ex, handler('waits'));
    expect(ex.running).toBe(1);
    started.execution.stop('lease lost');
    const r = await started.result;
    expect(r.outcome).toBe('failed');
    expect(r.stderr).toContain('stopped: lease lost');
    expect(String(reason)).toContain('lease lost');
    expect(started.calls()).toBe(1);
    expect(ex.running).toBe(0);
  });

  it('a signal first read after stop() is already aborted, with the first reason', async () => {
    let readSignal: () => AbortSignal = () => {
      throw new Error('the handler has not run');
    };
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Keeps its context and reads the signal only later (the executor makes it on first read).
    const late: Handler = async (ctx) => {
      readSignal = () => ctx.signal;
      await released;
    };
    const { ex } = await executor(new HandlerRegistry().register('late', late));
    const started = startTask(ex, handler('late'));
    started.execution.stop('lease lost');
    started.execution.stop('second reason');
    const r = await started.result;
    expect(r.stderr).toContain('stopped: lease lost');
    const signal = readSignal();
    expect(signal.aborted).toBe(true);
    expect(String(signal.reason)).toContain('stopped: lease lost');
    release();
  });

  it('runs many noop tasks quickly (a generous bound, not a benchmark)', async () => {
    const { ex } = await executor();
    const n = 20_000;
    let done = 0;
    const all = new Promise<void>((resolve) => {
      for (let i = 0; i < n; i++) {
        ex.start(handler('noop', null, { task: i }), () => {
          if (++done === n) resolve();
        });
      }
    });
    await within(all, 10_000, `${n} noop tasks to finish`);
    expect(ex.running).toBe(0);
  });
});
