// The /meshrun/logs/1 protocol: a node asks the node that ran a task attempt for the end of its
// log. One request and one answer per stream, each a varint-length-prefixed frame: the request is
// JSON `{ v, job, task, attempt }`, validated; the answer a JSON header `{ v, ok, ... }`, then,
// when ok, one frame with the log bytes (the last MAX_LOG_BYTES at most). Every step is bounded.
// Task logs hold whatever the tasks printed (secrets included), so only members of the cluster
// are answered: a peer that is not one gets a refusal before its request is even read.
import './polyfill.js';
import { lpStream } from 'it-length-prefixed-stream';
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { HANDSHAKE_REFUSED, refusedDuringHandshake } from './dial-errors.js';

export const LOGS_PROTOCOL = '/meshrun/logs/1';
const FORMAT_VERSION = 1;
/** The most of a log one answer carries: its end. */
export const MAX_LOG_BYTES = 1 << 20;
const MAX_REQUEST_BYTES = 1024;
const MAX_HEADER_BYTES = 8 * 1024;
const MAX_ERROR_CHARS = 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
const READ_TIMEOUT_MS = 5_000;
const WRITE_TIMEOUT_MS = 10_000;

/** Same rules as the executor's log paths (task-env.ts): nothing that could leave the logs directory. */
export const LogRequestSchema = z.object({
  v: z.literal(FORMAT_VERSION),
  job: z.string().regex(/^[a-z0-9-]{1,128}$/),
  task: z
    .string()
    .max(160)
    .regex(/^[A-Za-z0-9_.-]+(\[\d+\])?$/),
  attempt: z.number().int().min(1).max(1_000_000),
});
const HeaderSchema = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(FORMAT_VERSION), ok: z.literal(true), size: z.number().int().min(0), truncated: z.boolean() }),
  z.object({ v: z.literal(FORMAT_VERSION), ok: z.literal(false), missing: z.boolean(), error: z.string().max(MAX_ERROR_CHARS) }),
]);

export interface LogRequest {
  readonly job: string;
  readonly task: string;
  readonly attempt: number;
}

/** An attempt's log, or why there is none. `size` is the whole file's size; `data` its end. */
export type LogAnswer =
  | { readonly ok: true; readonly data: Uint8Array; readonly size: number; readonly truncated: boolean }
  | { readonly ok: false; readonly missing: boolean; readonly error: string };

export class LogsProtocolError extends Error {
  override readonly name = 'LogsProtocolError';
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function parse(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

export function decodeLogRequest(bytes: Uint8Array): { ok: true; value: LogRequest } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = parse(bytes);
  } catch (err) {
    return { ok: false, error: `not JSON: ${errorMessage(err)}` };
  }
  const r = LogRequestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, error: issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid' };
  }
  return { ok: true, value: { job: r.data.job, task: r.data.task, attempt: r.data.attempt } };
}

async function closeQuietly(stream: Stream): Promise<void> {
  try {
    await stream.close({ signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
  }
}

/** What the logs server uses (js-libp2p's components style): registering its protocol handler. */
export type LogsServerComponents = Pick<Libp2p, 'handle' | 'unhandle'>;

export interface LogsServerInit {
  /** Finds the attempt's log on this node. */
  readonly read: (req: LogRequest) => Promise<LogAnswer>;
  /** Whether the peer (authenticated by noise) is a member of the cluster: only members are answered. */
  readonly isMember: (id: string) => boolean;
}

export interface LogsServiceStats {
  /** Requests answered (with a log or with why there is none). */
  answered: number;
  /** Streams from peers that are not members: refused unread. */
  refusedNotMember: number;
}

export const NOT_A_MEMBER_ERROR = 'not a member of this cluster: task logs are served to members only';

/** Serves /meshrun/logs/1 to members of the cluster, from `start()` until `stop()`. */
export class LogsServer {
  readonly stats: LogsServiceStats = { answered: 0, refusedNotMember: 0 };

  constructor(
    private readonly components: LogsServerComponents,
    private readonly init: LogsServerInit,
  ) {}

  async start(): Promise<void> {
    await this.components.handle(LOGS_PROTOCOL, ({ stream, connection }) => void this.serve(stream, connection.remotePeer.toString()), {
      maxInboundStreams: 32,
    });
  }

  async stop(): Promise<void> {
    await this.components.unhandle(LOGS_PROTOCOL).catch(() => undefined);
  }

  private async serve(stream: Stream, from: string): Promise<void> {
    const { read, isMember } = this.init;
    const stats = this.stats;
    const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES });
    try {
      if (!isMember(from)) {
        stats.refusedNotMember++;
        // Said plainly, so a member not yet known here (just admitted) sees why and can retry.
        const refusal = { v: FORMAT_VERSION, ok: false, missing: false, error: NOT_A_MEMBER_ERROR };
        await lp.write(json(refusal), { signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
        await closeQuietly(stream);
        return;
      }
      const frame = await lp.read({ signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
      const req = decodeLogRequest(frame.subarray());
      let answer: LogAnswer;
      if (!req.ok) answer = { ok: false, missing: false, error: `invalid log request: ${req.error}` };
      else {
        try {
          answer = await read(req.value);
        } catch (err) {
          answer = { ok: false, missing: false, error: errorMessage(err) };
        }
      }
      const signal = AbortSignal.timeout(WRITE_TIMEOUT_MS);
      if (answer.ok) {
        const data = answer.data.length > MAX_LOG_BYTES ? answer.data.subarray(answer.data.length - MAX_LOG_BYTES) : answer.data;
        await lp.write(
          json({ v: FORMAT_VERSION, ok: true, size: answer.size, truncated: answer.truncated || data.length < answer.data.length }),
          { signal },
        );
        await lp.write(data, { signal });
      } else {
        await lp.write(json({ v: FORMAT_VERSION, ok: false, missing: answer.missing, error: answer.error.slice(0, MAX_ERROR_CHARS) }), {
          signal,
        });
      }
      stats.answered++;
      await closeQuietly(stream);
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
    }
  }
}

/**
 * Asks `target` (a peer id, or a multiaddr ending in its /p2p/ id) for an attempt's log. Resolves
 * with its answer; rejects with a LogsProtocolError when the peer cannot be reached or gives no
 * valid answer within `timeoutMs`.
 */
export async function requestLog(
  host: Libp2p,
  target: PeerId | Multiaddr | Multiaddr[],
  req: LogRequest,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<LogAnswer> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const fail = (step: string, err: unknown): LogsProtocolError => {
    if (timeout.aborted) return new LogsProtocolError(`no answer within ${timeoutMs} ms (while ${step})`);
    if (err instanceof Error && err.name === 'UnsupportedProtocolError')
      return new LogsProtocolError(`the peer does not serve ${LOGS_PROTOCOL}`);
    if (step === 'dialling' && refusedDuringHandshake(err)) return new LogsProtocolError(HANDSHAKE_REFUSED);
    return new LogsProtocolError(`${step} failed: ${errorMessage(err)}`);
  };
  let stream: Stream;
  try {
    stream = await host.dialProtocol(target, LOGS_PROTOCOL, { signal });
  } catch (err) {
    throw fail('dialling', err);
  }
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_LOG_BYTES + MAX_HEADER_BYTES });
    try {
      await lp.write(json({ v: FORMAT_VERSION, ...req }), { signal });
    } catch (err) {
      throw fail('sending the request', err);
    }
    let header;
    try {
      header = HeaderSchema.safeParse(parse((await lp.read({ signal })).subarray()));
    } catch (err) {
      throw fail('reading the answer', err);
    }
    if (!header.success) throw new LogsProtocolError(`invalid answer: ${header.error.issues[0]?.message ?? 'invalid'}`);
    const h = header.data;
    if (!h.ok) {
      void closeQuietly(stream);
      return { ok: false, missing: h.missing, error: h.error };
    }
    let data: Uint8Array;
    try {
      data = (await lp.read({ signal })).subarray();
    } catch (err) {
      throw fail('reading the log', err);
    }
    if (data.length > MAX_LOG_BYTES) throw new LogsProtocolError(`the log frame is over ${MAX_LOG_BYTES} bytes`);
    void closeQuietly(stream);
    return { ok: true, data, size: h.size, truncated: h.truncated };
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
    throw err;
  }
}
