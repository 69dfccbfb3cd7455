// The API answers only requests that name it in `Host` (DNS rebinding) and carry no other site's
// `Origin`: the rules on their own, then on a real server on 127.0.0.1:0 with raw requests (fetch
// would not let a test set Host).
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostProblem, originProblem, servedHosts } from '../../src/api/host-guard.js';
import { startApiServer, type ApiBackend, type ApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/node/logger.js';

describe('servedHosts', () => {
  it('on loopback: the bound address, localhost, 127.0.0.1 and [::1], each with its own port', () => {
    const s = servedHosts('127.0.0.1', 7070);
    expect([...s.hosts].sort()).toEqual(['127.0.0.1:7070', '[::1]:7070', 'localhost:7070']);
    expect([...servedHosts('127.0.0.5', 7070).hosts]).toContain('127.0.0.5:7070');
    expect([...servedHosts('::1', 7070).hosts]).toContain('[::1]:7070');
  });

  it('on another address: that address alone', () => {
    expect([...servedHosts('10.0.0.7', 7070).hosts]).toEqual(['10.0.0.7:7070']);
    expect([...servedHosts('Node1.Example', 7070).hosts]).toEqual(['node1.example:7070']);
  });

  it("on a wildcard: the machine's addresses and names, never the wildcard itself; the description lists none", () => {
    const s = servedHosts('0.0.0.0', 7070, () => ['10.0.0.7', 'fe80::1', 'box']);
    expect(s.hosts).toEqual(new Set(['10.0.0.7:7070', '[fe80::1]:7070', 'box:7070', 'localhost:7070', '127.0.0.1:7070', '[::1]:7070']));
    expect(s.hosts.has('0.0.0.0:7070')).toBe(false);
    expect(s.description).not.toContain('10.0.0.7');
  });

  it('port 80 also serves a Host without a port', () => {
    expect(servedHosts('127.0.0.1', 80).hosts.has('localhost')).toBe(true);
    expect(servedHosts('127.0.0.1', 8080).hosts.has('localhost')).toBe(false);
  });
});

describe('hostProblem and originProblem', () => {
  const served = servedHosts('127.0.0.1', 7070);

  it('accept the names of this API, case-insensitively', () => {
    for (const h of ['127.0.0.1:7070', 'localhost:7070', 'LOCALHOST:7070', '[::1]:7070']) expect(hostProblem(h, served), h).toBeNull();
  });

  it('refuse another name, another port, no port, no Host, naming the problem', () => {
    expect(hostProblem('attacker.example:7070', served)).toMatch(
      /^Host "attacker\.example:7070" is not an address this API serves \(it answers to 127\.0\.0\.1:7070, localhost:7070.*DNS rebinding/,
    );
    expect(hostProblem('127.0.0.1:7071', served)).toMatch(/not an address this API serves/);
    expect(hostProblem('127.0.0.1', served)).toMatch(/not an address this API serves/);
    expect(hostProblem(undefined, served)).toMatch(/no Host header/);
  });

  it("accept no Origin or this API's own; refuse other sites, other ports, https, null", () => {
    expect(originProblem(undefined, served)).toBeNull();
    expect(originProblem('http://127.0.0.1:7070', served)).toBeNull();
    expect(originProblem('http://localhost:7070', served)).toBeNull();
    for (const o of ['http://attacker.example:7070', 'http://127.0.0.1:7071', 'https://127.0.0.1:7070', 'null', 'garbage']) {
      expect(originProblem(o, served), o).toMatch(/^Origin .* is not this API's own origin: cross-site requests are refused/);
    }
  });
});

const backend: ApiBackend = {
  cluster: () => ({ self: 'n1', role: 'leader', term: 1, leader: 'n1', commit: 0, applied: 0, voters: ['n1'], learners: [] }),
  jobs: {
    submit: () => Promise.resolve({ ok: true, id: 'job-1', existing: false }),
    detail: () => undefined,
    progress: () => undefined,
    task: () => undefined,
    page: () => undefined,
    specs: () => undefined,
    exists: () => false,
    list: () => [],
    cancel: (id) => Promise.resolve({ ok: false, reason: 'not-found', error: `no job ${id}` }),
  },
};

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A raw HTTP/1.1 request to the server, with exactly the headers given (Host included). */
function send(
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
  path = method === 'GET' ? '/v1/cluster' : '/v1/jobs',
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('the API server on 127.0.0.1', () => {
  let api: ApiServer;
  let port: number;
  beforeAll(async () => {
    api = await startApiServer({ host: '127.0.0.1', port: 0, token: null, backend, logger: silentLogger() });
    port = Number(new URL(api.url).port);
  });
  afterAll(() => api.close());

  it('answers requests naming it, with or without its own Origin', async () => {
    expect((await send(api.url, 'GET', { host: `127.0.0.1:${port}` })).status).toBe(200);
    expect((await send(api.url, 'GET', { host: `localhost:${port}` })).status).toBe(200);
    expect((await send(api.url, 'GET', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    const dag = JSON.stringify({ name: 'x', tasks: { a: { run: 'true' } } });
    const post = await send(
      api.url,
      'POST',
      { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json' },
      dag,
    );
    expect(post.status, post.body).toBe(201);
  });

  it('answers 421 with a JSON error to a Host it does not serve, on the API and the dashboard alike', async () => {
    for (const host of [`attacker.example:${port}`, `127.0.0.1:${port + 1}`]) {
      for (const path of ['/v1/cluster', '/']) {
        const r = await send(api.url, 'GET', { host }, undefined, path);
        expect(r.status, `${host} ${path}`).toBe(421);
        expect((JSON.parse(r.body) as { error: string }).error).toMatch(/not an address this API serves.*DNS rebinding/);
      }
    }
    expect((await send(api.url, 'GET', { host: `localhost:${port}` }, undefined, '/')).status).toBe(200);
  });

  it('answers 403 with a JSON error to a cross-site Origin, GET and POST', async () => {
    const get = await send(api.url, 'GET', { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' });
    expect(get.status).toBe(403);
    expect((JSON.parse(get.body) as { error: string }).error).toMatch(/Origin "http:\/\/attacker\.example" is not this API's own origin/);
    const post = await send(
      api.url,
      'POST',
      { host: `127.0.0.1:${port}`, origin: 'http://attacker.example', 'content-type': 'text/plain' },
      '{}',
    );
    expect(post.status).toBe(403);
  });
});
