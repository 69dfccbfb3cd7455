import { at } from '../invariant.js';
import { crc32 } from './crc32.js';

// Record layout of a meshrun LevelDB store.
//
// Keys are a one-byte kind, and for log segments the index of the segment's first entry as 8
// bytes big-endian, so LevelDB's bytewise key order is: format record, hard state, membership,
// snapshot, cluster id, then the log's segments in index order. The cluster id (UTF-8 text) is not
// Raft state: it names the cluster this store belongs to (see net/cluster-id.ts), and a store
// without one is empty or predates cluster ids. Values are a 4-byte big-endian CRC-32
// followed by the record's codec bytes. The CRC covers the key and then the payload, so a value
// that ends up under another key (say a segment under the wrong index) fails its check as surely
// as a flipped bit does.
//
// The log is stored as segments: each save writes the entries it appends as one record (the
// codec's encodeEntries run), because LevelDB's JavaScript layer costs microseconds per batch
// operation and a record per entry made that the biggest CPU cost of a busy node. A save that
// rewrites the log from index i deletes every segment starting at or after i and writes its own
// at i; a segment starting before i keeps its stored tail past i on disk, and readers treat every
// entry a segment holds at or after the next segment's first index as superseded.
//
// The format record (key 0x00, payload a varint version) must keep this exact layout in every
// future version: it is what lets an old binary refuse a newer store by name.
//
// Version history: 1 stored one record per entry (never deployed); 2 stores segments; 3 adds each
// entry's proposer (the member that proposed it); 4 writes every record but the format record in
// the protobuf layouts of src/proto (raft.proto: Entries, HardState, Membership, Snapshot; the
// entries' data in envelope.proto and scheduler.proto) instead of hand-written ones.

export const STORE_FORMAT_VERSION = 4;

export const KIND_FORMAT = 0x00;
export const KIND_HARD_STATE = 0x01;
export const KIND_MEMBERSHIP = 0x02;
export const KIND_SNAPSHOT = 0x03;
export const KIND_CLUSTER_ID = 0x04;
/** The index a node that joined with nothing must apply before it votes (RaftNode.holdVotingUntil). */
export const KIND_VOTING_HOLD = 0x05;
export const KIND_SEGMENT = 0x10;

export const FORMAT_KEY = Uint8Array.of(KIND_FORMAT);
export const HARD_STATE_KEY = Uint8Array.of(KIND_HARD_STATE);
export const MEMBERSHIP_KEY = Uint8Array.of(KIND_MEMBERSHIP);
export const SNAPSHOT_KEY = Uint8Array.of(KIND_SNAPSHOT);
export const CLUSTER_ID_KEY = Uint8Array.of(KIND_CLUSTER_ID);
export const VOTING_HOLD_KEY = Uint8Array.of(KIND_VOTING_HOLD);

export const SEGMENT_KEY_BYTES = 9;
export const CRC_BYTES = 4;

/**
 * A save's entries go in one segment up to about this many payload bytes, and are split into
 * several segments (in the same batch) past it: LevelDB copes with multi-megabyte values, but
 * one huge value is read, checksummed and copied whole on every open.
 */
export const MAX_SEGMENT_BYTES = 4 << 20;

const TWO_32 = 0x1_0000_0000;

/** The key of the segment whose first entry is `first`. */
export function segmentKey(first: number): Uint8Array {
  const k = new Uint8Array(SEGMENT_KEY_BYTES);
  const hi = Math.floor(first / TWO_32);
  const lo = first >>> 0;
  k[0] = KIND_SEGMENT;
  k[1] = hi >>> 24;
  k[2] = hi >>> 16;
  k[3] = hi >>> 8;
  k[4] = hi;
  k[5] = lo >>> 24;
  k[6] = lo >>> 16;
  k[7] = lo >>> 8;
  k[8] = lo;
  return k;
}

/** The first index a segment key names, or null when it is not a well-formed segment key. */
export function segmentKeyIndex(key: Uint8Array): number | null {
  if (key.length !== SEGMENT_KEY_BYTES || key[0] !== KIND_SEGMENT) return null;
  const b = (i: number) => at(key, i, 'a byte of a key of SEGMENT_KEY_BYTES');
  const hi = ((b(1) << 24) | (b(2) << 16) | (b(3) << 8) | b(4)) >>> 0;
  const lo = ((b(5) << 24) | (b(6) << 16) | (b(7) << 8) | b(8)) >>> 0;
  const index = hi * TWO_32 + lo;
  return Number.isSafeInteger(index) && index >= 1 ? index : null;
}

export function recordCrc(key: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(key));
}

/** Fills the CRC slot at the start of `value` (whose payload follows it) for `key`. */
export function stampCrc(key: Uint8Array, value: Uint8Array): void {
  const c = recordCrc(key, value.subarray(CRC_BYTES));
  value[0] = c >>> 24;
  value[1] = c >>> 16;
  value[2] = c >>> 8;
  value[3] = c;
}

/** A value for `key`: CRC then payload. */
export function seal(key: Uint8Array, payload: Uint8Array): Uint8Array {
  const v = new Uint8Array(CRC_BYTES + payload.length);
  v.set(payload, CRC_BYTES);
  stampCrc(key, v);
  return v;
}

/** The payload of a stored value, or null when it is too short or its CRC does not match. */
export function unseal(key: Uint8Array, value: Uint8Array): Uint8Array | null {
  if (value.length < CRC_BYTES) return null;
  const b = (i: number) => at(value, i, 'a byte of the CRC_BYTES prefix');
  const stored = ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
  const payload = value.subarray(CRC_BYTES);
  return recordCrc(key, payload) === stored ? payload : null;
}

export function keyHex(key: Uint8Array): string {
  return `0x${Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
