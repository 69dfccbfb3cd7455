// GET /v1/jobs/{id}/tasks/{task}/log: which attempt, which node ran it, and its log, read from this
// node's data directory or fetched from the node that ran it over /meshrun/logs/1.
import { open } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import type { LogAnswer, LogRequest } from '../net/logs.js';
import { MAX_LOG_BYTES } from '../net/logs.js';
import type { TaskLogOutcome } from '../api/outcomes.js';
import type { NodeId } from '../raft/types.js';
import type { TaskView } from '../scheduler/types.js';
import { taskLogPath } from '../worker/task-env.js';

/** The end (at most `maxBytes`) of an attempt's log in `dataDir`; `missing` when there is no such file. */
export async function readLocalLog(dataDir: string, req: LogRequest, maxBytes = MAX_LOG_BYTES): Promise<LogAnswer> {
  let path: string;
  try {
    path = taskLogPath(dataDir, req.job, req.task, req.attempt);
  } catch (err) {
    return { ok: false, missing: false, error: errorMessage(err) };
  }
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, missing: true, error: 'no log file' };
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, size - len + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    let data = buf.subarray(0, got);
    const truncated = size > len;
    // Cut in front: do not start in the middle of a UTF-8 character.
    if (truncated) {
      let skip = 0;
      while (skip < 3 && skip < data.length && ((data[skip] ?? 0) & 0xc0) === 0x80) skip++;
      data = data.subarray(skip);
    }
    return { ok: true, data, size, truncated };
  } finally {
    await fh.close();
  }
}

export interface TaskLogDeps {
  readonly self: NodeId;
  readonly dataDir: string;
  /** One task of a job (SchedulerView.task); undefined for an unknown job or task. */
  readonly task: (id: string, name: string) => TaskView | undefined;
  readonly jobExists: (id: string) => boolean;
  /** Other nodes to ask for an earlier attempt, whose node the state no longer records. */
  readonly peers: () => readonly NodeId[];
  /** Fetch from another node; rejects when it cannot be reached. */
  readonly fetchRemote: (node: NodeId, req: LogRequest) => Promise<LogAnswer>;
}

export async function taskLog(deps: TaskLogDeps, jobId: string, task: string, attempt: number | null): Promise<TaskLogOutcome> {
  const t = deps.task(jobId, task);
  if (!t && !deps.jobExists(jobId))
    return {
      ok: false,
      reason: 'not-found',
      error: `no job ${jobId} on this node (finished jobs are removed after their retention period)`,
    };
  if (!t) return { ok: false, reason: 'not-found', error: `job ${jobId} has no task ${JSON.stringify(task)}` };
  if (t.attempt === 0)
    return { ok: false, reason: 'not-found', error: `task ${task} of job ${jobId} has not started yet (state ${t.state}): it has no log` };
  const want = attempt ?? t.attempt;
  if (want > t.attempt)
    return { ok: false, reason: 'not-found', error: `task ${task} of job ${jobId} has no attempt ${want} (it has had ${t.attempt})` };
  const req: LogRequest = { job: jobId, task, attempt: want };
  const found = (node: NodeId, a: LogAnswer & { ok: true }): TaskLogOutcome => ({
    ok: true,
    node,
    attempt: want,
    data: a.data,
    size: a.size,
    truncated: a.truncated,
  });
  const gone = (where: string): TaskLogOutcome => ({
    ok: false,
    reason: 'not-found',
    error: `no log for attempt ${want} of task ${task} of job ${jobId} ${where} (the attempt wrote no output, or its log was removed)`,
  });

  // The latest attempt's node is in the state; an earlier attempt may have run anywhere.
  const holder = want === t.attempt ? t.node : null;
  if (holder === deps.self || holder === null) {
    const local = await readLocalLog(deps.dataDir, req);
    if (local.ok) return found(deps.self, local);
    if (!local.missing) return { ok: false, reason: 'not-found', error: local.error };
    if (holder === deps.self) return gone(`on ${deps.self}, the node that ran it`);
  }
  if (holder !== null) {
    let a: LogAnswer;
    try {
      a = await deps.fetchRemote(holder, req);
    } catch (err) {
      return {
        ok: false,
        reason: 'unavailable',
        error: `node ${holder}, which ran attempt ${want} of task ${task}, is unreachable: ${errorMessage(err)}`,
        details: { node: holder },
      };
    }
    if (a.ok) return found(holder, a);
    return a.missing ? gone(`on ${holder}, the node that ran it`) : { ok: false, reason: 'not-found', error: `node ${holder}: ${a.error}` };
  }
  // An earlier attempt: ask every other node, take the first that has it.
  const peers = deps.peers().filter((p) => p !== deps.self);
  const unreachable: NodeId[] = [];
  const answers = await Promise.all(
    peers.map(async (p) => {
      try {
        return { p, a: await deps.fetchRemote(p, req) };
      } catch {
        unreachable.push(p);
        return null;
      }
    }),
  );
  for (const r of answers) if (r?.a.ok) return found(r.p, r.a);
  if (unreachable.length > 0) {
    return {
      ok: false,
      reason: 'unavailable',
      error: `attempt ${want} of task ${task} is not logged on any reachable node; unreachable: ${unreachable.join(', ')}`,
      details: { unreachable },
    };
  }
  return gone('on any node');
}
