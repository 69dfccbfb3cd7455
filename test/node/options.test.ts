import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/api/host-guard.js';
import {
  DEFAULT_LISTEN,
  defaultNodeName,
  isLoopbackMultiaddr,
  parseDuration,
  parseHostPort,
  parseNodeOptions,
  parseSize,
} from '../../src/node/options.js';

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
/** No MESHRUN_TOKEN: the tests do not depend on the environment they run in. */
const NO_ENV = {};

const dir = mkdtempSync(join(os.tmpdir(), 'meshrun-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('parseNodeOptions', () => {
  it('fills in the defaults', () => {
    const r = parseNodeOptions({}, NO_ENV);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.voters).toBe(3);
    expect(r.value.listen).toEqual(['/ip4/127.0.0.1/tcp/7000']);
    expect(r.value.apiToken).toBeNull();
    expect(r.value.api).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(r.value.bootstrap).toEqual([]);
    expect(r.value.slots).toBeGreaterThanOrEqual(1);
    expect(r.value.replaceAfterMs).toBe(30_000);
    expect(r.value.testHooks).toBe(false);
    expect(r.value.testPartitions).toBe(false);
    expect(r.value.dataDir.startsWith('/')).toBe(true);
    expect(r.value.name).toBe(defaultNodeName(os.hostname()));
    expect(r.value.maxLogBytes).toBe(1024 ** 3);
  });

  it('--name and --max-log-bytes', () => {
    expect(parseNodeOptions({ name: 'db-1.eu', maxLogBytes: '512MiB' }, NO_ENV)).toMatchObject({
      ok: true,
      value: { name: 'db-1.eu', maxLogBytes: 512 * 1024 ** 2 },
    });
    expect(parseNodeOptions({ maxLogBytes: '0' }, NO_ENV)).toMatchObject({ ok: true, value: { maxLogBytes: 0 } });
    expect(parseNodeOptions({ name: 'has space' }, NO_ENV)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/--name must be 1 to 64 letters/),
    });
    expect(parseNodeOptions({ name: 'x'.repeat(65) }, NO_ENV)).toMatchObject({ ok: false });
    expect(parseNodeOptions({ maxLogBytes: 'lots' }, NO_ENV)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/--max-log-bytes must be a size/),
    });
    expect(parseSize('1G')).toBe(1024 ** 3);
    expect(parseSize('2kb')).toBe(2048);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('1 parsec')).toBeNull();
    expect(defaultNodeName('My Host_1')).toBe('My-Host_1');
    expect(defaultNodeName('--')).toBe('node');
  });

  it('takes the values commander hands over', () => {
    const r = parseNodeOptions(
      {
        data: '/tmp/x',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        api: '127.0.0.1:0',
        bootstrap: [`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`],
        slots: '4',
        voters: '5',
        replaceAfter: '2s',
        testHooks: true,
        testPartitions: true,
      },
      NO_ENV,
    );
    expect(r).toMatchObject({
      ok: true,
      value: { dataDir: '/tmp/x', slots: 4, voters: 5, replaceAfterMs: 2000, api: { port: 0 }, testHooks: true, testPartitions: true },
    });
  });

  it.each([
    [{ voters: '2' }, /--voters must be odd/],
    [{ voters: '0' }, /--voters must be a positive integer/],
    [{ voters: 'three' }, /--voters must be a positive integer/],
    [{ slots: '0' }, /--slots must be a positive integer/],
    [{ slots: '1.5' }, /--slots must be a positive integer/],
    [{ api: 'localhost' }, /--api must be HOST:PORT/],
    [{ api: '127.0.0.1:70000' }, /--api must be HOST:PORT/],
    [
      { api: '0.0.0.0:7070' },
      /0\.0\.0\.0:7070 is not a loopback address: binding the API elsewhere requires a token \(--api-token-file FILE or the MESHRUN_TOKEN environment variable\)/,
    ],
    [{ apiToken: 'secret' }, /--api-token is refused: .*use --api-token-file FILE or the MESHRUN_TOKEN environment variable/],
    [{ api: '0.0.0.0:7070', apiToken: 'secret' }, /--api-token is refused/],
    [
      { listen: ['/ip4/0.0.0.0/tcp/7000'] },
      /--listen \/ip4\/0\.0\.0\.0\/tcp\/7000 is not a loopback address: .*requires --swarm-key FILE.*meshrun keygen/,
    ],
    [{ listen: ['/ip4/127.0.0.1/tcp/1', '/ip4/10.0.0.1/tcp/1'] }, /--listen \/ip4\/10\.0\.0\.1\/tcp\/1 is not a loopback address/],
    [{ listen: ['/ip6/::/tcp/7000'] }, /requires --swarm-key/],
    [{ listen: ['/dns4/example.com/tcp/7000'] }, /requires --swarm-key/],
    [{ apiTokenFile: '' }, /--api-token-file must not be empty/],
    [{ listen: ['not-a-multiaddr'] }, /--listen "not-a-multiaddr": not a valid multiaddr/],
    [{ bootstrap: ['/ip4/127.0.0.1/tcp/1'] }, /must end with \/p2p\//],
    [{ replaceAfter: 'soon' }, /--replace-after must be a duration/],
    [{ data: '' }, /--data must not be empty/],
  ])('refuses %j', (raw, message) => {
    const r = parseNodeOptions(raw, NO_ENV);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('accepts a non-loopback API with a token from MESHRUN_TOKEN', () => {
    const r = parseNodeOptions({ api: '0.0.0.0:7070' }, { MESHRUN_TOKEN: 'secret' });
    expect(r).toMatchObject({ ok: true, value: { apiToken: 'secret', apiTokenSource: 'env' } });
  });

  it('treats an empty MESHRUN_TOKEN as unset, and refuses one that cannot go in a header', () => {
    expect(parseNodeOptions({}, { MESHRUN_TOKEN: '' })).toMatchObject({ ok: true, value: { apiToken: null, apiTokenSource: null } });
    expect(parseNodeOptions({}, { MESHRUN_TOKEN: 'two words' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/MESHRUN_TOKEN must be printable ASCII without spaces/),
    });
  });

  it('reads the token from --api-token-file without its trailing newline; the file wins over MESHRUN_TOKEN', () => {
    const f = file('token', 'from-file\n');
    expect(parseNodeOptions({ api: '0.0.0.0:7070', apiTokenFile: f }, NO_ENV)).toMatchObject({
      ok: true,
      value: { apiToken: 'from-file', apiTokenSource: 'file' },
    });
    expect(parseNodeOptions({ apiTokenFile: file('crlf', 'crlf-token\r\n') }, NO_ENV)).toMatchObject({
      ok: true,
      value: { apiToken: 'crlf-token' },
    });
    expect(parseNodeOptions({ apiTokenFile: f }, { MESHRUN_TOKEN: 'from-env' })).toMatchObject({
      ok: true,
      value: { apiToken: 'from-file' },
    });
  });

  it('refuses an empty, unreadable or malformed token file, naming the file', () => {
    const cases: [string, RegExp][] = [
      [file('empty', ''), /--api-token-file .*empty is empty/],
      [file('newline-only', '\n'), /--api-token-file .*newline-only is empty/],
      [join(dir, 'missing'), /cannot read --api-token-file .*missing: ENOENT/],
      [dir, /cannot read --api-token-file .*meshrun-options-[^:]*: EISDIR/],
      [file('two-lines', 'a\nb\n'), /--api-token-file .*two-lines: the token must be one line of printable ASCII/],
    ];
    for (const [path, message] of cases) {
      const r = parseNodeOptions({ apiTokenFile: path }, NO_ENV);
      expect(r.ok, path).toBe(false);
      if (!r.ok) expect(r.error).toMatch(message);
    }
  });

  it('listens off loopback only with a swarm key', () => {
    expect(parseNodeOptions({ listen: ['/ip4/0.0.0.0/tcp/7000'], swarmKey: '/etc/meshrun/swarm.key' }, NO_ENV).ok).toBe(true);
    expect(parseNodeOptions({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0', '/dns4/localhost/tcp/0'] }, NO_ENV).ok).toBe(true);
  });
});

describe('option helpers', () => {
  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('0s')).toBeNull();
    expect(parseDuration('-1s')).toBeNull();
    expect(parseDuration('2 days')).toBeNull();
  });

  it('parses host:port, IPv6 in brackets', () => {
    expect(parseHostPort('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('::1:80')).toBeNull();
  });

  it('knows loopback multiaddrs', () => {
    expect(isLoopbackMultiaddr(DEFAULT_LISTEN)).toBe(true);
    expect(isLoopbackMultiaddr('/ip4/127.0.0.1/tcp/0/ws')).toBe(true);
    expect(isLoopbackMultiaddr('/ip6/::1/tcp/0')).toBe(true);
    expect(isLoopbackMultiaddr('/dns/localhost/tcp/0')).toBe(true);
    expect(isLoopbackMultiaddr('/ip4/0.0.0.0/tcp/0')).toBe(false);
    expect(isLoopbackMultiaddr('/ip6/::/tcp/0')).toBe(false);
    expect(isLoopbackMultiaddr('/ip4/192.168.1.2/tcp/0')).toBe(false);
    expect(isLoopbackMultiaddr('not a multiaddr')).toBe(false);
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

describe('--label', () => {
  it('takes repeated KEY=VALUE labels, keys in order, and refuses a bad or repeated one naming it', () => {
    expect(parseNodeOptions({ label: ['zone=eu', 'gpu=a100'] }, NO_ENV)).toMatchObject({
      ok: true,
      value: { labels: { gpu: 'a100', zone: 'eu' } },
    });
    expect(parseNodeOptions({}, NO_ENV)).toMatchObject({ ok: true, value: { labels: {} } });
    expect(parseNodeOptions({ label: ['gpu=a100', 'gpu=v100', 'ssd'] }, NO_ENV)).toEqual({
      ok: false,
      error: '--label gpu is given twice; --label ssd: expected KEY=VALUE, like gpu=a100',
    });
  });
});
