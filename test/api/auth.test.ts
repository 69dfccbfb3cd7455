// The API token check leaks nothing, not even the token's length: whatever the guess, the
// comparison runs timingSafeEqual over two SHA-256 digests (32 bytes each). node:crypto is wrapped
// to watch the calls; the real functions do the work.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});

const { timingSafeEqual } = await import('node:crypto');
const { tokenChecker } = await import('../../src/api/auth.js');
const compare = vi.mocked(timingSafeEqual);

afterEach(() => compare.mockClear());

describe('tokenChecker', () => {
  const matches = tokenChecker('sesame-0123456789');

  it('accepts exactly "Bearer <token>"', () => {
    expect(matches('Bearer sesame-0123456789')).toBe(true);
    expect(matches('Bearer sesame-012345678')).toBe(false);
    expect(matches('bearer sesame-0123456789')).toBe(false);
    expect(matches('sesame-0123456789')).toBe(false);
    expect(matches(undefined)).toBe(false);
  });

  it('compares 32-byte digests in constant time whatever the length of the guess', () => {
    const guesses = [undefined, '', 'Bearer x', 'Bearer sesame-0123456789', `Bearer ${'y'.repeat(5000)}`];
    for (const g of guesses) matches(g);
    expect(compare).toHaveBeenCalledTimes(guesses.length);
    for (const [a, b] of compare.mock.calls) {
      expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
    }
  });
});
