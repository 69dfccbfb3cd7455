import { describe, expect, it } from 'vitest';
import { MAX_SLOTS, checkOwnReport, decodeLoadReport, encodeLoadReport } from '../../src/net/load-report.js';
import type { LoadReport } from '../../src/net/types.js';

const good: LoadReport = { node: 'n1', slots: 4, free: 1, running: 3, handlers: ['shell'], applied: 12, at: 1_700_000_000_000 };
const encoder = new TextEncoder();

/** A report's wire bytes with some fields replaced (as raw JSON text, so non-JSON numbers like 1e400 get through). */
function wire(fields: Record<string, string>): Uint8Array {
  const base: Record<string, string> = { v: '1' };
  for (const [k, v] of Object.entries(good)) base[k] = JSON.stringify(v);
  const merged = { ...base, ...fields };
  return encoder.encode(`{${Object.entries(merged).map(([k, v]) => `"${k}":${v}`).join(',')}}`);
}

describe('load report bounds', () => {
  it('accepts a sane report, and what it encodes decodes the same', () => {
    expect(decodeLoadReport(wire({}))).toEqual(good);
    expect(decodeLoadReport(encodeLoadReport(good))).toEqual(good);
    expect(decodeLoadReport(wire({ slots: String(MAX_SLOTS), free: String(MAX_SLOTS), running: '0' }))).not.toBeNull();
  });

  it.each([
    ['a billion free slots', { slots: '1000000000', free: '1000000000' }],
    ['more slots than any node offers', { slots: String(MAX_SLOTS + 1), free: '0', running: '0' }],
    ['more free slots than slots', { slots: '4', free: '5', running: '0' }],
    ['more running than slots', { slots: '4', free: '0', running: '5' }],
    ['a fractional slot count', { slots: '1.5' }],
    ['a negative free count', { free: '-1' }],
    ['an applied index beyond safe integers', { applied: '9007199254740993' }],
    ['an infinite applied index', { applied: '1e400' }],
    ['an infinite timestamp', { at: '1e400' }],
    ['a timestamp that is not a number', { at: '"now"' }],
    ['65 handlers', { handlers: JSON.stringify(Array.from({ length: 65 }, (_, i) => `h${i}`)) }],
    ['a handler name of 65 chars', { handlers: JSON.stringify(['x'.repeat(65)]) }],
    ['an empty handler name', { handlers: '[""]' }],
  ])('refuses %s', (_what, fields) => {
    expect(decodeLoadReport(wire(fields))).toBeNull();
  });

  it('refuses a report over the size limit without parsing it', () => {
    expect(decodeLoadReport(new Uint8Array(9 * 1024).fill(0x20))).toBeNull();
  });

  it('will not let this node publish what peers refuse, naming the field', () => {
    expect(() => checkOwnReport({ ...good, slots: 2, free: 3, running: 0 })).toThrow(/free: 3 free slots of 2/);
    expect(() => checkOwnReport({ ...good, slots: 2, free: 0, running: 3 })).toThrow(/running: 3 running of 2 slots/);
    expect(() => checkOwnReport({ ...good, slots: MAX_SLOTS + 1, free: 0, running: 0 })).toThrow(/slots/);
  });
});
