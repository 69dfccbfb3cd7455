import { describe, expect, it } from 'vitest';
import { isLoopback, parseDuration, parseHostPort, parseNodeOptions } from '../../src/node/options.js';

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';

describe('parseNodeOptions', () => {
  it('fills in the defaults', () => {
    const r = parseNodeOptions({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.voters).toBe(3);
    expect(r.value.api).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(r.value.bootstrap).toEqual([]);
    expect(r.value.slots).toBeGreaterThanOrEqual(1);
    expect(r.value.replaceAfterMs).toBe(30_000);
    expect(r.value.testHooks).toBe(false);
    expect(r.value.testPartitions).toBe(false);
    expect(r.value.dataDir.startsWith('/')).toBe(true);
  });

  it('takes the values commander hands over', () => {
    const r = parseNodeOptions({
      data: '/tmp/x',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      api: '127.0.0.1:0',
      bootstrap: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`],
      slots: '4',
      voters: '5',
      replaceAfter: '2s',
      testHooks: true,
      testPartitions: true,
    });
    expect(r).toMatchObject({ ok: true, value: { dataDir: '/tmp/x', slots: 4, voters: 5, replaceAfterMs: 2000, api: { port: 0 }, testHooks: true, testPartitions: true } });
  });

  it.each([
    [{ voters: '2' }, /--voters must be odd/],
    [{ voters: '0' }, /--voters must be a positive integer/],
    [{ voters: 'three' }, /--voters must be a positive integer/],
    [{ slots: '0' }, /--slots must be a positive integer/],
    [{ slots: '1.5' }, /--slots must be a positive integer/],
    [{ api: 'localhost' }, /--api must be HOST:PORT/],
    [{ api: '127.0.0.1:70000' }, /--api must be HOST:PORT/],
    [{ api: '0.0.0.0:7070' }, /requires --api-token/],
    [{ listen: ['not-a-multiaddr'] }, /--listen "not-a-multiaddr": not a valid multiaddr/],
    [{ bootstrap: ['/ip4/127.0.0.1/tcp/1'] }, /must end with \/p2p\//],
    [{ replaceAfter: 'soon' }, /--replace-after must be a duration/],
    [{ data: '' }, /--data must not be empty/],
  ])('refuses %j', (raw, message) => {
    const r = parseNodeOptions(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('accepts a non-loopback API with a token', () => {
    expect(parseNodeOptions({ api: '0.0.0.0:7070', apiToken: 'secret' }).ok).toBe(true);
  });
});

describe('option helpers', () => {
  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('0s')).toBeNull();
    expect(parseDuration('-1s')).toBeNull();
    expect(parseDuration('2 days')).toBeNull();
  });

  it('parses host:port, IPv6 in brackets', () => {
    expect(parseHostPort('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('::1:80')).toBeNull();
  });

  it('knows loopback hosts', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.0.0.1')).toBe(false);
  });
});
