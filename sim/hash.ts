// 32-bit FNV-1a. The checkers compare hashes instead of payloads to stay fast; a collision can
// only hide a bug (never invent one), and at 2^-32 per comparison that is an acceptable trade.

const OFFSET = 0x811c9dc5;
const PRIME = 0x01000193;

export function hashBytes(b: Uint8Array, h = OFFSET): number {
  for (const byte of b) h = Math.imul(h ^ byte, PRIME);
  return h >>> 0;
}

export function hashString(s: string, h = OFFSET): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), PRIME);
  return h >>> 0;
}

/** Mix a 32-bit number into a running hash. */
export function hashNumber(n: number, h = OFFSET): number {
  h = Math.imul(h ^ (n & 0xff), PRIME);
  h = Math.imul(h ^ ((n >>> 8) & 0xff), PRIME);
  h = Math.imul(h ^ ((n >>> 16) & 0xff), PRIME);
  h = Math.imul(h ^ ((n >>> 24) & 0xff), PRIME);
  return h >>> 0;
}

export function hex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}
