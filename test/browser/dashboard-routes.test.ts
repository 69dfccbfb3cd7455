// The dashboard's routes on a real API server with a token: the page and its assets load without
// it (they hold no data), everything else still needs it, and nothing outside the fixed list of
// files is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/node/logger.js';
import { startApiServer, type ApiBackend, type ApiServer } from '../../src/api/server.js';

const backend: ApiBackend = {
  cluster: () => ({ self: 'me', role: 'leader', term: 1, leader: 'me', commit: 1, applied: 1, voters: ['me'], learners: [] }),
  jobs: {
    submit: async () => ({ ok: false, status: 503, error: 'not in this test' }) as never,
    detail: () => undefined,
    progress: () => undefined,
    task: () => undefined,
    page: () => undefined,
    specs: () => undefined,
    exists: () => false,
    list: () => [],
    cancel: async () => ({ ok: false, status: 404, error: 'no' }) as never,
  },
};

let server: ApiServer;
beforeAll(async () => {
  server = await startApiServer({ host: '127.0.0.1', port: 0, token: 'sesame', backend, logger: silentLogger() });
});
afterAll(async () => {
  await server.close();
});

describe('dashboard routes', () => {
  it('serves the page without the token, with a strict content security policy', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('/assets/app.js');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it.each(['app.js', 'api.js', 'graph.js', 'views.js', 'util.js', 'layers.js', 'style.css', 'favicon.svg', 'dagre.js'])(
    'serves /assets/%s without the token',
    async (name) => {
      const res = await fetch(`${server.url}/assets/${name}`);
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBeGreaterThan(100);
    },
  );

  it('serves dagre as an ES module with its layout', async () => {
    const js = await (await fetch(`${server.url}/assets/dagre.js`)).text();
    expect(js).toMatch(/export\s*\{[^}]*layout/);
    expect(js).not.toContain('sourceMappingURL');
  });

  it('serves nothing else, and still requires the token on the API', async () => {
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/..%2Fdashboard.ts`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/cluster`)).status).toBe(401);
    expect((await fetch(`${server.url}/v1/jobs`)).status).toBe(401);
    expect((await fetch(`${server.url}/nope`)).status).toBe(401);
    const ok = await fetch(`${server.url}/v1/cluster`, { headers: { authorization: 'Bearer sesame' } });
    expect(ok.status).toBe(200);
  });
});
