// The /meshrun/join/1 wire format: one JSON object per frame, with a format version, validated
// by zod plus the checks zod cannot make (ids are peer ids, addresses are multiaddrs naming their
// peer, cluster ids are 32 hex digits). Encoders refuse what the peer's decoder would refuse, so
// nothing undecodable is sent. Version 2 added the cluster id and the empty-store flag; the whole
// cluster runs one version, so version 1 is refused, not translated.
import { peerIdFromString } from '@libp2p/peer-id';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { JoinRequest, JoinResponse, PeerAddress } from './types.js';
import { peerIdOf } from './addresses.js';
import { MAX_INDEX } from '../raft/types.js';
import { CLUSTER_ID_PATTERN } from './cluster-id.js';

const FORMAT_VERSION = 2;

export const MAX_JOIN_REQUEST_BYTES = 64 * 1024;
export const MAX_JOIN_RESPONSE_BYTES = 1024 * 1024;
const MAX_ID_CHARS = 256;
const MAX_ADDR_CHARS = 512;
/** Per node: a host listening on 0.0.0.0 reports one address per interface. */
const MAX_ADDRS = 64;
const MAX_MEMBERS = 1024;
export const MAX_ERROR_CHARS = 4096;

const Id = z.string().min(1).max(MAX_ID_CHARS);
const Addr = z.string().min(1).max(MAX_ADDR_CHARS);
const Addrs = z.array(Addr).max(MAX_ADDRS);
const PeerAddressSchema = z.object({ id: Id, addrs: Addrs });
const ClusterId = z.string().max(64).regex(CLUSTER_ID_PATTERN, 'not a cluster id (32 lowercase hex digits)').nullable();

const RequestSchema = z.object({ v: z.literal(FORMAT_VERSION), id: Id, addrs: Addrs, cluster: ClusterId, emptyStore: z.boolean() });
const ResponseSchema = z.discriminatedUnion('ok', [
  z.object({
    v: z.literal(FORMAT_VERSION),
    ok: z.literal(true),
    leader: Id,
    members: z.array(PeerAddressSchema).max(MAX_MEMBERS),
    cluster: ClusterId,
    admittedAt: z.number().int().min(0).max(MAX_INDEX),
  }),
  z.object({
    v: z.literal(FORMAT_VERSION),
    ok: z.literal(false),
    error: z.string().max(MAX_ERROR_CHARS),
    leader: PeerAddressSchema.optional(),
    reason: z.enum(['wrong-cluster']).optional(),
  }),
]);

/** `timeout`: no answer in time; `refused`: the peer closed the connection during the handshake (swarm keys differ?). */
export type JoinFailureKind = 'timeout' | 'refused' | 'other';

export class JoinProtocolError extends Error {
  override readonly name = 'JoinProtocolError';
  constructor(
    message: string,
    readonly kind: JoinFailureKind = 'other',
  ) {
    super(message);
  }
}

function zodProblem(err: z.ZodError): string {
  const issue = err.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.join('.') : 'value';
  return `${path}: ${issue.message}`;
}

/** Checks what zod cannot: ids are peer ids, and every address is a multiaddr naming its peer. */
function checkPeerAddress(p: PeerAddress, what: string): string | null {
  try {
    peerIdFromString(p.id);
  } catch {
    return `${what} id ${p.id} is not a peer id`;
  }
  for (const a of p.addrs) {
    try {
      if (peerIdOf(a) !== p.id) return `${what} address ${a} names another peer than ${p.id}`;
    } catch (err) {
      return `${what} address ${a}: ${errorMessage(err)}`;
    }
  }
  return null;
}

function decodeJson(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

/** Parses and validates a request frame; returns the request or the problem. */
export function decodeJoinRequest(bytes: Uint8Array): { ok: true; value: JoinRequest } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = decodeJson(bytes);
  } catch (err) {
    return { ok: false, error: `not JSON: ${errorMessage(err)}` };
  }
  const r = RequestSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: zodProblem(r.error) };
  const req: JoinRequest = { id: r.data.id, addrs: r.data.addrs, cluster: r.data.cluster, emptyStore: r.data.emptyStore };
  const bad = checkPeerAddress(req, 'joining node');
  return bad === null ? { ok: true, value: req } : { ok: false, error: bad };
}

export function decodeJoinResponse(bytes: Uint8Array): { ok: true; value: JoinResponse } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = decodeJson(bytes);
  } catch (err) {
    return { ok: false, error: `not JSON: ${errorMessage(err)}` };
  }
  const r = ResponseSchema.safeParse(raw);
  if (!r.success) return { ok: false, error: zodProblem(r.error) };
  const d = r.data;
  if (d.ok) {
    for (const m of d.members) {
      const bad = checkPeerAddress(m, 'member');
      if (bad !== null) return { ok: false, error: bad };
    }
    return { ok: true, value: { ok: true, leader: d.leader, members: d.members, cluster: d.cluster, admittedAt: d.admittedAt } };
  }
  if (d.leader !== undefined) {
    const bad = checkPeerAddress(d.leader, 'leader');
    if (bad !== null) return { ok: false, error: bad };
  }
  return {
    ok: true,
    value: {
      ok: false,
      error: d.error,
      ...(d.leader !== undefined ? { leader: d.leader } : {}),
      ...(d.reason !== undefined ? { reason: d.reason } : {}),
    },
  };
}

function encode(value: object, limit: number, what: string): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  if (bytes.length > limit) throw new JoinProtocolError(`${what} of ${bytes.length} bytes exceeds the limit of ${limit}`);
  return bytes;
}

export function encodeJoinRequest(req: JoinRequest): Uint8Array {
  const wire = { v: FORMAT_VERSION, id: req.id, addrs: req.addrs, cluster: req.cluster, emptyStore: req.emptyStore };
  const parsed = RequestSchema.safeParse(wire);
  if (!parsed.success) throw new JoinProtocolError(`invalid join request: ${zodProblem(parsed.error)}`);
  const bad = checkPeerAddress(req, 'joining node');
  if (bad !== null) throw new JoinProtocolError(`invalid join request: ${bad}`);
  return encode(wire, MAX_JOIN_REQUEST_BYTES, 'join request');
}

export function encodeJoinResponse(res: JoinResponse): Uint8Array {
  const wire = { v: FORMAT_VERSION, ...res };
  const bytes = encode(wire, MAX_JOIN_RESPONSE_BYTES, 'join response');
  // Check by decoding: the peer runs exactly this, so nothing we send can be refused.
  const back = decodeJoinResponse(bytes);
  if (!back.ok) throw new JoinProtocolError(`invalid join response: ${back.error}`);
  return bytes;
}
