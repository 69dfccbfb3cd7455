import { describe, expect, it } from 'vitest';
import { MAX_SLOTS, OwnReportCheck, checkOwnReport, decodeLoadReport, encodeLoadReport } from '../../src/net/load-report.js';
import type { LoadReport } from '../../src/net/types.js';

const good: LoadReport = { node: 'n1', slots: 4, free: 1, running: 3, handlers: ['shell'], applied: 12, at: 1_700_000_000_000 };
const encoder = new TextEncoder();

/** A report's wire bytes with some fields replaced (as raw JSON text, so non-JSON numbers like 1e400 get through). */
function wire(fields: Record<string, string>): Uint8Array {
  const base: Record<string, string> = { v: '1' };
  for (const [k, v] of Object.entries(good)) base[k] = JSON.stringify(v);
  const merged = { ...base, ...fields };
  return encoder.encode(
    `{${Object.entries(merged)
      .map(([k, v]) => `"${k}":${v}`)
      .join(',')}}`,
  );
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
    ['a name with a space', { name: '"my node"' }],
    ['a name of 65 characters', { name: JSON.stringify('n'.repeat(65)) }],
    ['an API URL that is not http', { api: '"ftp://127.0.0.1:7070"' }],
    ['an API URL with a path', { api: '"http://127.0.0.1:7070/steal"' }],
    ['an API URL with credentials', { api: '"http://user:pw@127.0.0.1:7070"' }],
    ['a negative log size', { logBytes: '-1' }],
  ])('refuses %s', (_what, fields) => {
    expect(decodeLoadReport(wire(fields))).toBeNull();
  });

  it("carries the node's name, API URL and log size; a report without them (an older node's) is still valid", () => {
    const full: LoadReport = { ...good, name: 'db-1.eu', api: 'http://10.0.0.1:7070', logBytes: 12_345 };
    expect(decodeLoadReport(encodeLoadReport(full))).toEqual(full);
    expect(decodeLoadReport(wire({ name: '"db-1"', api: '"http://[::1]:7070"', logBytes: '0' }))).toEqual({
      ...good,
      name: 'db-1',
      api: 'http://[::1]:7070',
      logBytes: 0,
    });
    expect(() => checkOwnReport({ ...good, name: 'bad name' })).toThrow(/name/);
  });

  it('refuses a report over the size limit without parsing it', () => {
    expect(decodeLoadReport(new Uint8Array(9 * 1024).fill(0x20))).toBeNull();
  });

  it('will not let this node publish what peers refuse, naming the field', () => {
    expect(() => checkOwnReport({ ...good, slots: 2, free: 3, running: 0 })).toThrow(/free: 3 free slots of 2/);
    expect(() => checkOwnReport({ ...good, slots: 2, free: 0, running: 3 })).toThrow(/running: 3 running of 2 slots/);
    expect(() => checkOwnReport({ ...good, slots: MAX_SLOTS + 1, free: 0, running: 0 })).toThrow(/slots/);
  });

  it('checks counts without zod after an accepted report, and refuses exactly what zod refuses', () => {
    const own = new OwnReportCheck();
    own.check({ ...good, name: 'db-1', logBytes: 0 });
    // Only counts change: each refused as checkOwnReport refuses it, with its message.
    const bad: Partial<LoadReport>[] = [
      { slots: 2, free: 3, running: 0 },
      { slots: 2, free: 0, running: 3 },
      { slots: MAX_SLOTS + 1, free: 0, running: 0 },
      { free: 1.5 },
      { free: -1 },
      { applied: Number.MAX_SAFE_INTEGER + 2 },
      { at: Number.POSITIVE_INFINITY },
      { applied: Number.NaN },
      { logBytes: -1 },
    ];
    for (const fields of bad) {
      const report = { ...good, name: 'db-1', logBytes: 0, ...fields };
      expect(() => checkOwnReport(report)).toThrow(/invalid load report/);
      expect(() => own.check(report)).toThrow(/invalid load report/);
    }
    // Good counts pass, and so do the bounds themselves.
    own.check({
      ...good,
      name: 'db-1',
      logBytes: 7,
      applied: Number.MAX_SAFE_INTEGER,
      slots: MAX_SLOTS,
      free: MAX_SLOTS,
      running: MAX_SLOTS,
    });
    // The texts changed: zod checks them again.
    expect(() => own.check({ ...good, name: 'bad name' })).toThrow(/name/);
    expect(() => own.check({ ...good, handlers: [''] })).toThrow(/handlers/);
    expect(() => own.check({ ...good, api: 'ftp://x:1' })).toThrow(/api/);
  });
});
