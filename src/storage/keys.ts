import { crc32 } from './crc32.js';

// Record layout of a meshrun LevelDB store.
//
// Keys are a one-byte kind, and for entries the index as 8 bytes big-endian, so LevelDB's
// bytewise key order is: format record, hard state, membership, snapshot, then the log in order.
// Values are a 4-byte big-endian CRC-32 followed by the record's codec bytes. The CRC covers the
// key and then the payload, so a value that ends up under another key (say an entry under the
// wrong index) fails its check as surely as a flipped bit does.
//
// The format record (key 0x00, payload a varint version) must keep this exact layout in every
// future version: it is what lets an old binary refuse a newer store by name.

export const STORE_FORMAT_VERSION = 1;

export const KIND_FORMAT = 0x00;
export const KIND_HARD_STATE = 0x01;
export const KIND_MEMBERSHIP = 0x02;
export const KIND_SNAPSHOT = 0x03;
export const KIND_ENTRY = 0x10;

export const FORMAT_KEY = Uint8Array.of(KIND_FORMAT);
export const HARD_STATE_KEY = Uint8Array.of(KIND_HARD_STATE);
export const MEMBERSHIP_KEY = Uint8Array.of(KIND_MEMBERSHIP);
export const SNAPSHOT_KEY = Uint8Array.of(KIND_SNAPSHOT);

export const ENTRY_KEY_BYTES = 9;
export const CRC_BYTES = 4;

const TWO_32 = 0x1_0000_0000;

/** Writes the key of entry `index` into `buf` at `off` (ENTRY_KEY_BYTES bytes). */
export function putEntryKey(buf: Uint8Array, off: number, index: number): void {
  const hi = Math.floor(index / TWO_32);
  const lo = index >>> 0;
  buf[off] = KIND_ENTRY;
  buf[off + 1] = hi >>> 24;
  buf[off + 2] = hi >>> 16;
  buf[off + 3] = hi >>> 8;
  buf[off + 4] = hi;
  buf[off + 5] = lo >>> 24;
  buf[off + 6] = lo >>> 16;
  buf[off + 7] = lo >>> 8;
  buf[off + 8] = lo;
}

export function entryKey(index: number): Uint8Array {
  const k = new Uint8Array(ENTRY_KEY_BYTES);
  putEntryKey(k, 0, index);
  return k;
}

/** The index an entry key names, or null when it is not a well-formed entry key. */
export function entryKeyIndex(key: Uint8Array): number | null {
  if (key.length !== ENTRY_KEY_BYTES || key[0] !== KIND_ENTRY) return null;
  const b = (i: number) => key[i] as number;
  const hi = ((b(1) << 24) | (b(2) << 16) | (b(3) << 8) | b(4)) >>> 0;
  const lo = ((b(5) << 24) | (b(6) << 16) | (b(7) << 8) | b(8)) >>> 0;
  const index = hi * TWO_32 + lo;
  return Number.isSafeInteger(index) ? index : null;
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
  const stored = (((value[0] as number) << 24) | ((value[1] as number) << 16) | ((value[2] as number) << 8) | (value[3] as number)) >>> 0;
  const payload = value.subarray(CRC_BYTES);
  return recordCrc(key, payload) === stored ? payload : null;
}

export function keyHex(key: Uint8Array): string {
  return `0x${Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
