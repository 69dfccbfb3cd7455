// The CLI's HTTP client over node:http (src/cli/client.ts): answers, headers, error answers and
// an address nobody listens on, against a fake API on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/cli/client.js';
import { CliError, EXIT } from '../../src/cli/errors.js';

let server: Server | null = null;

afterEach(() => {
  server?.close();
  server = null;
});

/** A fake node echoing the request (method, path, body, headers) as JSON, with a few set answers. */
async function fakeApi(): Promise<string> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/log') {
        res.writeHead(200, { 'content-type': 'text/plain', 'X-Meshrun-Attempt': '2' }).end('line 1\n');
        return;
      }
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no job x on this node' }));
        return;
      }
      if (req.url === '/broken') {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no leader' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, key: req.headers['idempotency-key'] ?? null }));
    });
  });
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** The error `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a CliError');
}

describe('ApiClient over node:http', () => {
  it('sends the body and headers and parses the JSON answer', async () => {
    const client = new ApiClient([await fakeApi()], {});
    const echo = await client.post<{ method: string; url: string; body: string; key: string }>(
      '/v1/jobs',
      { a: 'é' },
      { 'Idempotency-Key': 'k1' },
    );
    expect(echo).toEqual({ method: 'POST', url: '/v1/jobs', body: '{"a":"é"}', key: 'k1' });
  });

  it('reads a text answer with its headers by any case', async () => {
    const client = new ApiClient([await fakeApi()], {});
    const r = await client.getText('/log');
    expect(r.text).toBe('line 1\n');
    expect(r.headers.get('x-meshrun-attempt')).toBe('2');
    expect(r.headers.get('X-Meshrun-Attempt')).toBe('2');
    expect(r.headers.get('x-meshrun-node')).toBeNull();
  });

  it("turns a 4xx into a usage error naming the API's message and a 5xx into unreachable", async () => {
    const base = await fakeApi();
    const client = new ApiClient([base], {});
    const missing = await failure(client.get('/missing'));
    expect(missing.exitCode).toBe(EXIT.usage);
    expect(missing.message).toBe(`no job x on this node (${base}/missing)`);
    const broken = await failure(client.get('/broken'));
    expect(broken.exitCode).toBe(EXIT.unreachable);
    expect(broken.message).toContain('no leader');
  });

  it('says it cannot reach an address nobody listens on', async () => {
    const base = await fakeApi();
    const s = server;
    server = null;
    await new Promise<void>((resolve) => s?.close(() => resolve()));
    const err = await failure(new ApiClient([base], {}).get('/v1/jobs'));
    expect(err.exitCode).toBe(EXIT.unreachable);
    expect(err.message).toMatch(new RegExp(`^cannot reach the meshrun API at ${base}/v1/jobs: connect ECONNREFUSED`));
  });
});
