// The executor with real `sh -c` processes: outcomes, the task environment, logs and tails, the
// kill sequence (timeout, stop, close) reaching grandchildren, and many tasks at once. Every pid a
// task reports is killed in afterEach if still alive; every wait is bounded.
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TAIL_BYTES } from '../../src/scheduler/types.js';
import { createExecutor, type ExecutorOptions, type RunningExecutor } from '../../src/worker/executor.js';
import { OutputTail, lastUtf8Bytes } from '../../src/worker/output-tail.js';
import { taskLogPath } from '../../src/worker/task-env.js';
import { handler, isGone, killAll, readPids, runTask, shell, startTask, waitGone, within } from '../fixtures/executor-helpers.js';

const dirs: string[] = [];
const executors: RunningExecutor[] = [];
const pids = new Set<number>();

function tempDir(): string {
  const d = mkdtempSync(join(os.tmpdir(), 'meshrun-exec-'));
  dirs.push(d);
  return d;
}

async function executor(over: Partial<ExecutorOptions> = {}): Promise<{ ex: RunningExecutor; dataDir: string }> {
  const dataDir = over.dataDir ?? tempDir();
  const ex = await createExecutor({ dataDir, nodeId: 'node-test', killGraceMs: 500, ...over });
  executors.push(ex);
  return { ex, dataDir };
}

/** Pids a task wrote to `file`, remembered for cleanup. */
async function taskPids(file: string, count: number, what: string): Promise<number[]> {
  const found = await readPids(file, count, what);
  for (const p of found) pids.add(p);
  return found;
}

afterEach(async () => {
  killAll(pids);
  pids.clear();
  await Promise.all(executors.splice(0).map((ex) => within(ex.close(), 10_000, 'executor close')));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('run tasks: outcomes', () => {
  it('exit 0 succeeds, with stdout and stderr tails and a duration', async () => {
    const { ex } = await executor();
    const started = startTask(ex, shell('echo hello; echo oops >&2'));
    expect(started.calledSynchronously).toBe(false);
    const r = await started.result;
    expect(r).toMatchObject({ outcome: 'succeeded', exitCode: 0, stdout: 'hello\n', stderr: 'oops\n' });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(started.calls()).toBe(1);
    expect(ex.running).toBe(0);
  });

  it('a non-zero exit fails with its code', async () => {
    const { ex } = await executor();
    expect(await runTask(ex, shell('exit 3'))).toMatchObject({ outcome: 'failed', exitCode: 3 });
  });

  it('a process killed by a signal fails with exitCode null, and a note naming the signal ends its stderr tail', async () => {
    const { ex } = await executor();
    const r = await runTask(ex, shell('echo dying >&2; kill -9 $$'));
    expect(r).toMatchObject({ outcome: 'failed', exitCode: null });
    expect(r.stderr).toBe('dying\nmeshrun: killed by SIGKILL\n');
  });
});

describe('run tasks: environment and working directory', () => {
  it('sets every contract variable, over the task env and the node env', async () => {
    const { ex } = await executor();
    const launch = shell('env', {
      job: 'etl-7',
      name: 'transform[3]',
      attempt: 2,
      fence: 1234,
      shard: 3,
      shards: 8,
      env: { TARGET: 'prod', MESHRUN_NODE: 'spoofed' },
    });
    const r = await runTask(ex, launch);
    expect(r.outcome).toBe('succeeded');
    const env = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      MESHRUN_JOB: 'etl-7',
      MESHRUN_TASK: 'transform[3]',
      MESHRUN_ATTEMPT: '2',
      MESHRUN_NODE: 'node-test',
      MESHRUN_FENCE: '1234',
      MESHRUN_SHARD: '3',
      MESHRUN_SHARDS: '8',
      TARGET: 'prod',
    });
    // The node's own environment is passed on.
    expect(env['PATH']).toBe(process.env['PATH']);
  });

  it('gives a task without shards no MESHRUN_SHARD, even when the node has one', async () => {
    const { ex } = await executor();
    const saved = process.env['MESHRUN_SHARD'];
    process.env['MESHRUN_SHARD'] = '5';
    try {
      const r = await runTask(ex, shell('echo "shard=${MESHRUN_SHARD-unset} shards=${MESHRUN_SHARDS-unset}"'));
      expect(r.stdout).toBe('shard=unset shards=unset\n');
    } finally {
      if (saved === undefined) delete process.env['MESHRUN_SHARD'];
      else process.env['MESHRUN_SHARD'] = saved;
    }
  });

  it("does not pass on the node's own MESHRUN_* variables: a task never sees the node's API token", async () => {
    const { ex } = await executor();
    const saved = { token: process.env['MESHRUN_TOKEN'], level: process.env['MESHRUN_LOG_LEVEL'] };
    process.env['MESHRUN_TOKEN'] = 'secret-7f3a9c';
    process.env['MESHRUN_LOG_LEVEL'] = 'debug';
    try {
      const r = await runTask(
        ex,
        shell(
          'echo "token=${MESHRUN_TOKEN-unset} level=${MESHRUN_LOG_LEVEL-unset} job=$MESHRUN_JOB"; env | grep -c secret-7f3a9c || true',
          { env: { TARGET: 'prod' } },
        ),
      );
      expect(r.stdout).toBe('token=unset level=unset job=job-1\n0\n');
    } finally {
      restoreEnv('MESHRUN_TOKEN', saved.token);
      restoreEnv('MESHRUN_LOG_LEVEL', saved.level);
    }
  });

  it('runs in the task cwd', async () => {
    const { ex } = await executor();
    const cwd = tempDir();
    const r = await runTask(ex, shell('pwd', { cwd }));
    expect(r.stdout.trim()).toBe(realpathSync(cwd));
  });

  it('fails an attempt whose cwd is missing, naming the directory', async () => {
    const { ex } = await executor();
    const cwd = join(tempDir(), 'not-there');
    const started = startTask(ex, shell('echo never', { cwd }));
    const r = await started.result;
    expect(r).toMatchObject({ outcome: 'failed', exitCode: null, stdout: '' });
    expect(r.stderr).toContain(cwd);
    expect(r.stderr).toMatch(/does not exist/);
    expect(started.calls()).toBe(1);
    expect(ex.running).toBe(0);
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- an environment variable is removed by deleting it
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('run tasks: log file and tails', () => {
  it('appends stdout and stderr to <dataDir>/logs/<job>/<task>.<attempt>.log', async () => {
    const { ex, dataDir } = await executor();
    const launch = shell('echo one; echo two >&2; echo three', { job: 'j-1', name: 'load[0]', attempt: 3, shard: 0, shards: 1 });
    await runTask(ex, launch);
    const path = join(dataDir, 'logs', 'j-1', 'load[0].3.log');
    expect(taskLogPath(dataDir, 'j-1', 'load[0]', 3)).toBe(path);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n').sort()).toEqual(['', 'one', 'three', 'two']);
  });

  it('creates the log file of a run task even when it prints nothing', async () => {
    const { ex, dataDir } = await executor();
    await runTask(ex, shell('true'));
    expect(readFileSync(join(dataDir, 'logs', 'job-1', 'step.1.log'), 'utf8')).toBe('');
  });

  it("creates the logs directories 0700 and the log file 0600: task output is for the node's user only", async () => {
    const { ex, dataDir } = await executor();
    await runTask(ex, shell('echo private'));
    const mode = (p: string): number => statSync(p).mode & 0o777;
    expect(mode(join(dataDir, 'logs'))).toBe(0o700);
    expect(mode(join(dataDir, 'logs', 'job-1'))).toBe(0o700);
    expect(mode(join(dataDir, 'logs', 'job-1', 'step.1.log'))).toBe(0o600);
  });

  it('keeps the last 4 KiB of each stream, and the whole output in the log', async () => {
    const { ex, dataDir } = await executor();
    // 20,000 bytes of stdout ending in a marker; 5,000 'e' then a marker on stderr.
    const r = await runTask(
      ex,
      shell(
        `head -c 19990 /dev/zero | tr '\\0' 'a'; printf 'END-OF-OUT'; head -c 5000 /dev/zero | tr '\\0' 'e' >&2; printf 'END-OF-ERR' >&2`,
      ),
    );
    expect(Buffer.byteLength(r.stdout)).toBe(TAIL_BYTES);
    expect(r.stdout.endsWith('aaaEND-OF-OUT')).toBe(true);
    expect(Buffer.byteLength(r.stderr)).toBe(TAIL_BYTES);
    expect(r.stderr.endsWith('eeeEND-OF-ERR')).toBe(true);
    expect(readFileSync(join(dataDir, 'logs', 'job-1', 'step.1.log')).length).toBe(20_000 + 5_010);
  });

  it('cuts the tail on a character boundary', async () => {
    const { ex } = await executor();
    // 3,000 two-byte 'é' then 'x': the last 4,096 bytes start in the middle of an 'é'.
    const r = await runTask(ex, shell(`i=0; while [ $i -lt 3000 ]; do printf 'é'; i=$((i+1)); done; printf x`));
    expect(r.stdout).toBe(`${'é'.repeat(2047)}x`);
  });
});

describe('OutputTail', () => {
  /** What the tail must hold: the last bytes, minus a cut character's continuation bytes. */
  function reference(all: Buffer, cap: number): string {
    let cut = all.subarray(Math.max(0, all.length - cap));
    if (all.length > cap) while (cut.length > 0 && ((cut[0] ?? 0) & 0xc0) === 0x80) cut = cut.subarray(1);
    return cut.toString('utf8');
  }

  it('matches the reference for random chunk sizes and 1- to 4-byte characters', () => {
    const alphabet = ['a', 'é', '€', '😀'];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const cap = 1 + rand(64);
      const tail = new OutputTail(cap);
      const chunks: Buffer[] = [];
      const text = Array.from({ length: rand(100) }, () => alphabet[rand(4)]).join('');
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length;) {
        const n = 1 + rand(2 * cap);
        const chunk = bytes.subarray(at, at + n);
        tail.push(chunk);
        chunks.push(chunk);
        at += n;
      }
      expect(tail.text(), `round ${round}, capacity ${cap}`).toBe(reference(Buffer.concat(chunks), cap));
    }
  });

  it('never returns more than the capacity in bytes, even for invalid UTF-8', () => {
    const tail = new OutputTail(16);
    tail.push(Buffer.alloc(40, 0xff));
    expect(Buffer.byteLength(tail.text())).toBeLessThanOrEqual(16);
    expect(Buffer.byteLength(lastUtf8Bytes('€'.repeat(10), 8))).toBeLessThanOrEqual(8);
    expect(lastUtf8Bytes('€'.repeat(10), 8)).toBe('€€');
  });
});

describe('run tasks: stopping', () => {
  it('a timeout kills the whole group, grandchildren included', async () => {
    const { ex, dataDir } = await executor();
    const file = join(dataDir, 'pids');
    const started = startTask(ex, shell(`sleep 100 & echo $$ $! > ${file}; sleep 100; wait`, { timeoutMs: 300 }));
    const [leader, grandchild] = await taskPids(file, 2, 'the task shell and its background sleep');
    const r = await started.result;
    expect(r).toMatchObject({ outcome: 'timeout', exitCode: null });
    expect(r.stderr).toMatch(/timed out after 300 ms/);
    await waitGone(leader ?? 0, 'the task shell');
    await waitGone(grandchild ?? 0, 'the background sleep');
    expect(started.calls()).toBe(1);
  });

  it('a group that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const { ex, dataDir } = await executor({ killGraceMs: 300 });
    const file = join(dataDir, 'pids');
    const started = startTask(ex, shell(`trap '' TERM; sleep 100 & echo $$ $! > ${file}; wait`, { timeoutMs: 200 }));
    const [leader, grandchild] = await taskPids(file, 2, 'the task shell and its background sleep');
    expect((await started.result).outcome).toBe('timeout');
    await waitGone(leader ?? 0, 'the task shell');
    await waitGone(grandchild ?? 0, 'the background sleep');
  });

  it('stop(reason, graceMs) brings the SIGKILL forward, also for a stop already under way (a lost lease)', async () => {
    // A grace period far longer than the test: only the shorter one can end these tasks in time.
    const { ex, dataDir } = await executor({ killGraceMs: 120_000 });
    const stubborn = (file: string): string => `trap '' TERM; sleep 100 & echo $$ $! > ${file}; wait`;
    const one = startTask(ex, shell(stubborn(join(dataDir, 'pids1')), { task: 1, name: 'one' }));
    const two = startTask(ex, shell(stubborn(join(dataDir, 'pids2')), { task: 2, name: 'two' }));
    const pids1 = await taskPids(join(dataDir, 'pids1'), 2, 'task one');
    const pids2 = await taskPids(join(dataDir, 'pids2'), 2, 'task two');
    one.execution.stop('lease lost', 100);
    two.execution.stop('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pids2.some((p) => !isGone(p))).toBe(true);
    two.execution.stop('lease lost', 100);
    for (const p of [...pids1, ...pids2]) await waitGone(p, 'a task process that ignores SIGTERM', 5000);
    expect(await one.result).toMatchObject({ outcome: 'failed', exitCode: null });
    const r2 = await two.result;
    expect(r2.stderr).toContain('stopped: cancelled');
    expect(r2.stderr).not.toContain('lease lost');
  });

  it('stop() kills the group; the attempt fails with the reason in the stderr tail and the log', async () => {
    const { ex, dataDir } = await executor();
    const file = join(dataDir, 'pids');
    const started = startTask(ex, shell(`sleep 100 & echo $! > ${file}; wait`));
    const [sleeper] = await taskPids(file, 1, 'the background sleep');
    expect(ex.running).toBe(1);
    started.execution.stop('cancelled by the user');
    started.execution.stop('twice');
    const r = await started.result;
    expect(r).toMatchObject({ outcome: 'failed', exitCode: null });
    expect(r.stderr).toContain('stopped: cancelled by the user');
    expect(r.stderr).toMatch(/meshrun: killed by SIGTERM\n$/);
    expect(r.stderr).not.toContain('twice');
    expect(readFileSync(join(dataDir, 'logs', 'job-1', 'step.1.log'), 'utf8')).toContain('cancelled by the user');
    await waitGone(sleeper ?? 0, 'the background sleep');
    expect(started.calls()).toBe(1);
    expect(ex.running).toBe(0);
  });

  it('stop() after the task ended changes nothing', async () => {
    const { ex } = await executor();
    const started = startTask(ex, shell('echo done'));
    const r = await started.result;
    started.execution.stop('late');
    expect(r.outcome).toBe('succeeded');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started.calls()).toBe(1);
  });

  it('what a finished task left running in its group is stopped', async () => {
    const { ex, dataDir } = await executor();
    const file = join(dataDir, 'pids');
    const r = await runTask(ex, shell(`sleep 100 >/dev/null 2>&1 & echo $! > ${file}`));
    expect(r.outcome).toBe('succeeded');
    const [sleeper] = await taskPids(file, 1, 'the background sleep');
    await waitGone(sleeper ?? 0, 'the sleep left behind');
  });

  it('close() stops running tasks, and later starts fail', async () => {
    const { ex, dataDir } = await executor();
    const file = join(dataDir, 'pids');
    const started = startTask(ex, shell(`echo $$ > ${file}; exec sleep 100`));
    const [sleeper] = await taskPids(file, 1, 'the task');
    await within(ex.close(), 10_000, 'close()');
    const r = await started.result;
    expect(r.outcome).toBe('failed');
    expect(r.stderr).toMatch(/shutting down/);
    expect(isGone(sleeper ?? 0)).toBe(true);
    const late = await runTask(ex, shell('echo never'));
    expect(late).toMatchObject({ outcome: 'failed' });
    expect(late.stderr).toMatch(/closed/);
  });
});

describe('run tasks: bookkeeping and load', () => {
  it('records running groups in tasks.pids and forgets them when they end', async () => {
    const { ex, dataDir } = await executor();
    const file = join(dataDir, 'pids');
    const started = startTask(ex, shell(`echo $$ > ${file}; exec sleep 100`));
    const [leader] = await taskPids(file, 1, 'the task');
    const journal = (): string => readFileSync(join(dataDir, 'tasks.pids'), 'utf8');
    expect(journal()).toMatch(new RegExp(`^\\+${leader} \\d+\\n$`));
    started.execution.stop('test');
    await started.result;
    await waitGone(leader ?? 0, 'the task');
    expect(journal()).toBe(`+${leader} ${journal().split('\n')[0]?.split(' ')[1]}\n-${leader}\n`);
  });

  it('runs 50 shell tasks at once', async () => {
    const { ex } = await executor();
    const all = Array.from({ length: 50 }, (_, i) =>
      startTask(ex, shell('sleep 0.2; echo "$MESHRUN_TASK"', { name: `many[${i}]`, shard: i, shards: 50 })),
    );
    expect(ex.running).toBe(50);
    const results = await Promise.all(all.map((s) => s.result));
    results.forEach((r, i) => expect(r).toMatchObject({ outcome: 'succeeded', exitCode: 0, stdout: `many[${i}]\n` }));
    expect(all.every((s) => s.calls() === 1)).toBe(true);
    expect(ex.running).toBe(0);
  });

  it('refuses a job id that would escape the data directory, without crashing', async () => {
    const { ex, dataDir } = await executor();
    // A handler task still runs (only its log file is refused); a shell task needs its
    // $MESHRUN_INPUTS file, in a directory named after the job, so it fails saying why.
    const h = await runTask(ex, handler('noop', null, { job: '../evil' }));
    expect(h).toMatchObject({ outcome: 'succeeded' });
    const r = await runTask(ex, shell('echo fine', { job: '../evil' }));
    expect(r.outcome).toBe('failed');
    expect(r.stderr).toContain(
      'cannot start the task: cannot write its $MESHRUN_INPUTS file: job id "../evil" is not a valid log directory name',
    );
    expect(existsSync(join(dataDir, 'evil'))).toBe(false);
  });
});
