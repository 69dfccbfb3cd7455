// The application entries of meshrun's Raft log. Raft's own membership holds only peer ids, so the
// log also carries node-level metadata beside the scheduler's commands. The layout is NodeEntry in
// src/proto/envelope.proto; these bytes live in the replicated log forever, so a kind's meaning
// never changes: a new kind is a new field, which older binaries refuse (the same way on every
// replica).
import { CodecError, MAX_ID_BYTES, type DecodeResult } from '../codec/binary.js';
import {
  decodeFail as fail,
  decodeProto,
  encodeProto,
  readNonEmpty,
  readText,
  writeBytes,
  writeNonEmpty,
  writeText,
} from '../codec/proto.js';
import * as pb from '../proto/envelope.js';
import type { NodeId } from '../raft/types.js';
import type { EntryBuilder } from './driver.js';
import { MAX_REQUEST_ID_BYTES, type RequestId } from './proposal.js';

/** Where a member can be dialled: proposed by the leader when it admits a joiner, and by a node whose listen addresses changed. */
export interface AddressEntry {
  readonly kind: 'address';
  readonly id: NodeId;
  readonly addrs: readonly string[];
}

/**
 * The test hook: a value applied into a small replicated list, so tests can check that a
 * proposal reached every node. `nonce` makes a probe's bytes unique (the simulator's liveness
 * probe tags its own); the API's probe leaves it empty and waits through its request id.
 */
export interface ProbeEntry {
  readonly kind: 'probe';
  readonly nonce: string;
  readonly value: string;
}

/** Opaque bytes for the scheduler's state machine: an encoded Command. */
export interface AppEntry {
  readonly kind: 'app';
  readonly data: Uint8Array;
}

/**
 * A member asks to leave the membership (graceful stop). Only a leader appends membership changes,
 * so a follower says it with this entry, which speaks only for its proposer; the leader that
 * applies it removes the node.
 */
export interface LeaveEntry {
  readonly kind: 'leave';
  readonly id: NodeId;
}

export type NodeEntry = AddressEntry | ProbeEntry | AppEntry | LeaveEntry;

/** Bounds that keep a hostile or buggy proposal from bloating every replica. */
export const MAX_ADDRS = 32;
export const MAX_ADDR_BYTES = 512;
export const MAX_PROBE_BYTES = 4096;
const MAX_NONCE_BYTES = 128;

/** An entry and the request id it carries (null for entries nobody waits for). */
export interface Envelope {
  readonly entry: NodeEntry;
  readonly request: RequestId | null;
}

/** What RaftDriver.propose takes: `e` encoded around the request id the driver gives it. */
export function envelope(e: NodeEntry): EntryBuilder {
  return (request) => encodeNodeEntry(e, request);
}

/** `request`: the proposal's id, so its wait is answered when the entry is applied (docs/architecture.md §15). */
export function encodeNodeEntry(e: NodeEntry, request: RequestId | null = null): Uint8Array {
  const out: pb.NodeEntry = {};
  let size = 16;
  if (request !== null) {
    out.request = writeNonEmpty(request, 'node entry: request id', MAX_REQUEST_ID_BYTES);
    size += request.length * 3 + 2;
  }
  switch (e.kind) {
    case 'address':
      if (e.addrs.length > MAX_ADDRS) throw new CodecError(`address entry: ${e.addrs.length} addresses (at most ${MAX_ADDRS})`);
      out.address = {
        id: writeNonEmpty(e.id, 'address entry: node id', MAX_ID_BYTES),
        addrs: e.addrs.map((a) => writeText(a, 'address entry: address', MAX_ADDR_BYTES)),
      };
      size += e.id.length * 3 + e.addrs.reduce((n, a) => n + a.length * 3 + 2, 0);
      break;
    case 'probe':
      out.probe = {
        nonce: writeText(e.nonce, 'probe entry: nonce', MAX_NONCE_BYTES),
        value: writeText(e.value, 'probe entry: value', MAX_PROBE_BYTES),
      };
      size += (e.nonce.length + e.value.length) * 3;
      break;
    case 'leave':
      out.leave = { id: writeNonEmpty(e.id, 'leave entry: node id', MAX_ID_BYTES) };
      size += e.id.length * 3;
      break;
    case 'app':
      out.app = writeBytes(e.data, 'app entry: data');
      size += e.data.length;
      break;
    default:
      throw new CodecError(`unknown node entry kind ${String((e as { kind: unknown }).kind)}`);
  }
  return encodeProto(pb.NodeEntry.codec(), out, size);
}

/** Bounds on the lists of an entry, for protons' decoder (it stops at the first element past one). */
const LIMITS = { address: { addrs: MAX_ADDRS } } as const;

/**
 * Decodes an entry's data. Never throws: the log may hold entries from a newer version (unknown
 * kinds) and every replica must treat them the same way, which the caller does by skipping them.
 * An `app` entry's data is a subarray of a private copy of `bytes`: the caller may reuse its buffer.
 */
export function decodeEnvelope(bytes: Uint8Array): DecodeResult<Envelope> {
  return decodeProto(pb.NodeEntry.codec(), bytes, 'node entry', envelopeIn, { limits: LIMITS });
}

/** decodeEnvelope without the request id. */
export function decodeNodeEntry(bytes: Uint8Array): DecodeResult<NodeEntry> {
  const d = decodeEnvelope(bytes);
  return d.ok ? { ok: true, value: d.value.entry } : d;
}

function envelopeIn(e: pb.NodeEntry): Envelope {
  const request = e.request === undefined ? null : readNonEmpty(e.request, 'request id', MAX_REQUEST_ID_BYTES);
  return { entry: entryIn(e), request };
}

function entryIn(e: pb.NodeEntry): NodeEntry {
  const kinds = (e.address ? 1 : 0) + (e.probe ? 1 : 0) + (e.app ? 1 : 0) + (e.leave ? 1 : 0);
  if (kinds !== 1) fail(kinds === 0 ? 'no kind (or one this version does not know)' : `${kinds} kinds in one entry (exactly one expected)`);
  if (e.app) return { kind: 'app', data: e.app };
  if (e.address) {
    const id = readNonEmpty(e.address.id, 'node id', MAX_ID_BYTES);
    return { kind: 'address', id, addrs: e.address.addrs.map((a) => readText(a, 'address', MAX_ADDR_BYTES)) };
  }
  if (e.probe)
    return {
      kind: 'probe',
      nonce: readText(e.probe.nonce, 'nonce', MAX_NONCE_BYTES),
      value: readText(e.probe.value, 'value', MAX_PROBE_BYTES),
    };
  return { kind: 'leave', id: readNonEmpty((e.leave as pb.LeaveEntry).id, 'node id', MAX_ID_BYTES) };
}
