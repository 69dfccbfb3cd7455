// The /meshrun/join/1 protocol: a new node asks any member to let it in. One request and one
// response per stream, each a single varint-length-prefixed frame (see join-wire.ts), validated
// on both sides and size-limited; every step is bounded by a timeout. What a member does with a
// request (add a learner when leader, point to the leader otherwise) is the node's business; the
// handler learns who opened the stream, so it can refuse a request made on another node's behalf.
import './polyfill.js';
import { lpStream } from 'it-length-prefixed-stream';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Libp2p, Stream } from '@libp2p/interface';
import { errorMessage } from '../errors.js';
import type { JoinRequest, JoinResponse } from './types.js';
import { parseMultiaddr, peerIdOf } from './addresses.js';
import { HANDSHAKE_REFUSED, dialTimedOut, refusedDuringHandshake, silentHandshakeHint } from './dial-errors.js';
import {
  JoinProtocolError,
  MAX_ERROR_CHARS,
  MAX_JOIN_REQUEST_BYTES,
  MAX_JOIN_RESPONSE_BYTES,
  decodeJoinRequest,
  decodeJoinResponse,
  encodeJoinRequest,
  encodeJoinResponse,
} from './join-wire.js';

export { JoinProtocolError } from './join-wire.js';

export const JOIN_PROTOCOL = '/meshrun/join/1';

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** How long a server waits for the request frame once a stream is open. */
const DEFAULT_READ_TIMEOUT_MS = 5_000;
/** How long a server lets its handler (replicating the joiner's address, adding it) take. */
const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;
/** Bound on writing the answer and closing: a peer that stops reading must not pin the stream. */
const WRITE_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Server

export interface JoinContext {
  /** The peer that opened the stream (authenticated by noise): the only node a request may speak for. */
  readonly from: string;
}

/** What the join server uses of the libp2p node (js-libp2p's components style): registering its protocol handler. */
export type JoinServerComponents = Pick<Libp2p, 'handle' | 'unhandle'>;

export type JoinHandlerFn = (req: JoinRequest, ctx: JoinContext) => Promise<JoinResponse>;

export interface JoinServerInit {
  /** Decides each valid request (src/node/join-handler.ts in a node). */
  readonly handler: JoinHandlerFn;
  readonly readTimeoutMs?: number;
  readonly handlerTimeoutMs?: number;
}

async function closeQuietly(stream: Stream): Promise<void> {
  try {
    await stream.close({ signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
  }
}

/** Rejects after `ms` with `message`; the timer never holds the process open. */
function deadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JoinProtocolError(message)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Serves /meshrun/join/1 from `start()` until `stop()`: each request is validated, then handed to
 * the handler; a handler that throws or takes too long answers `{ ok: false, error }`.
 */
export class JoinServer {
  private readonly readTimeoutMs: number;
  private readonly handlerTimeoutMs: number;

  constructor(
    private readonly components: JoinServerComponents,
    private readonly init: JoinServerInit,
  ) {
    this.readTimeoutMs = init.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.handlerTimeoutMs = init.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  }

  async start(): Promise<void> {
    await this.components.handle(JOIN_PROTOCOL, ({ stream, connection }) => void this.serve(stream, connection.remotePeer.toString()), {
      maxInboundStreams: 16,
    });
  }

  async stop(): Promise<void> {
    await this.components.unhandle(JOIN_PROTOCOL).catch(() => undefined);
  }

  private async answer(req: JoinRequest, ctx: JoinContext): Promise<JoinResponse> {
    try {
      return await deadline(this.init.handler(req, ctx), this.handlerTimeoutMs, `no answer within ${this.handlerTimeoutMs} ms`);
    } catch (err) {
      return { ok: false, error: errorMessage(err).slice(0, MAX_ERROR_CHARS) };
    }
  }

  private async serve(stream: Stream, from: string): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_JOIN_REQUEST_BYTES });
    let res: JoinResponse;
    try {
      const frame = await lp.read({ signal: AbortSignal.timeout(this.readTimeoutMs) });
      const req = decodeJoinRequest(frame.subarray());
      res = req.ok ? await this.answer(req.value, { from }) : { ok: false, error: `invalid join request: ${req.error}` };
    } catch (err) {
      // Oversize, truncated or too slow: nothing sensible to answer.
      stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
      return;
    }
    try {
      let bytes: Uint8Array;
      try {
        bytes = encodeJoinResponse(res);
      } catch (err) {
        // The handler produced something the wire refuses (a bug in the node): say so.
        bytes = encodeJoinResponse({ ok: false, error: `the member could not answer: ${errorMessage(err)}`.slice(0, MAX_ERROR_CHARS) });
      }
      await lp.write(bytes, { signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
      await closeQuietly(stream);
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Client

export interface RequestJoinOptions {
  readonly signal?: AbortSignal;
  /** Bound on the whole exchange (dial, request, answer). Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Asks the member at `target` (a multiaddr ending in /p2p/<id>) to let `req.id` join. Resolves
 * with the member's answer, which may be a refusal (`ok: false`) with a leader hint; rejects with
 * a JoinProtocolError naming the peer and the problem when there is no valid answer in time.
 */
export async function requestJoin(host: Libp2p, target: string, req: JoinRequest, opts: RequestJoinOptions = {}): Promise<JoinResponse> {
  let ma: Multiaddr;
  let peer: string;
  try {
    ma = parseMultiaddr(target);
    peer = peerIdOf(ma);
  } catch (err) {
    throw new JoinProtocolError(`join via ${target}: ${errorMessage(err)}`);
  }
  const who = `join via ${peer} (${target})`;
  const bytes = encodeJoinRequest(req);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;

  const fail = (step: string, err: unknown): JoinProtocolError => {
    if (timeout.aborted) return new JoinProtocolError(`${who}: no answer within ${timeoutMs} ms (while ${step})`, 'timeout');
    if (opts.signal?.aborted) return new JoinProtocolError(`${who}: abandoned (while ${step})`);
    if (err instanceof Error && err.name === 'UnsupportedProtocolError') {
      return new JoinProtocolError(`${who}: the peer does not serve ${JOIN_PROTOCOL} (not a meshrun node, or not started yet)`);
    }
    if (step === 'dialling' && refusedDuringHandshake(err)) return new JoinProtocolError(`${who}: ${HANDSHAKE_REFUSED}`, 'refused');
    return new JoinProtocolError(`${who}: ${step} failed: ${errorMessage(err)}`);
  };

  /** A dial that timed out to a port that is open: the handshake hung, say the swarm keys likely differ. */
  const failedDial = async (err: unknown): Promise<JoinProtocolError> => {
    const plain = fail('dialling', err);
    if (opts.signal?.aborted || !(timeout.aborted || dialTimedOut(err))) return plain;
    const hint = await silentHandshakeHint(ma);
    if (hint === null) return plain;
    const what = timeout.aborted ? `no answer within ${timeoutMs} ms (while dialling)` : 'the dial timed out';
    return new JoinProtocolError(`${who}: ${what}: ${hint}`, plain.kind);
  };

  let stream: Stream;
  try {
    stream = await host.dialProtocol(ma, JOIN_PROTOCOL, { signal });
  } catch (err) {
    throw await failedDial(err);
  }
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_JOIN_RESPONSE_BYTES });
    try {
      await lp.write(bytes, { signal });
    } catch (err) {
      throw fail('sending the request', err);
    }
    let frame;
    try {
      frame = await lp.read({ signal });
    } catch (err) {
      throw fail('reading the answer', err);
    }
    const res = decodeJoinResponse(frame.subarray());
    if (!res.ok) throw new JoinProtocolError(`${who}: invalid answer: ${res.error}`);
    void closeQuietly(stream);
    return res.value;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(errorMessage(err)));
    throw err;
  }
}
