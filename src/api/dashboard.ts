// The dashboard (docs/http-api.md §13): `GET /` serves one static page, `GET /assets/NAME` its ES
// modules, stylesheet and dagre (from node_modules). No build step and nothing fetched from
// elsewhere: every file is read once here, at registration, and served from memory.
//
// The page and its assets are served without the API token: they hold no data. The page asks for
// the token when an API call answers 401 and sends `Authorization: Bearer` itself. The exemption
// is an onRequest hook that answers these routes before any later hook runs, so registerDashboard
// must be called before the auth hook is installed (see startApiServer).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** The files of src/api/dashboard/ the page is made of (a fixed list: nothing else is served). */
const FILES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'graph.js': 'text/javascript; charset=utf-8',
  'views.js': 'text/javascript; charset=utf-8',
  'util.js': 'text/javascript; charset=utf-8',
  'schedules.js': 'text/javascript; charset=utf-8',
  'layers.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** Everything the page loads comes from this node; styles set through the CSSOM need no inline allowance. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const DASHBOARD = 'meshrunDashboard';

declare module 'fastify' {
  interface FastifyContextConfig {
    meshrunDashboard?: true;
  }
}

/** The static files' folder: next to this module from a checkout (tsx), or back in src/ when running from dist/. */
function assetDir(): string {
  const here = import.meta.dirname;
  const candidates = [join(here, 'dashboard'), resolve(here, '../../../src/api/dashboard')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (found === undefined) throw new Error(`dashboard: no index.html in ${candidates.join(' or ')}`);
  return found;
}

function loadAssets(): { index: Asset; assets: Map<string, Asset> } {
  const dir = assetDir();
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  // dagre's self-contained ES module build; its source map is not shipped, so drop the comment naming it.
  const require = createRequire(import.meta.url);
  const dagreDir = dirname(require.resolve('@dagrejs/dagre/package.json'));
  const dagre = readFileSync(join(dagreDir, 'dist', 'dagre.esm.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  assets.set('dagre.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(dagre) });
  return { index: { type: 'text/html; charset=utf-8', body: readFileSync(join(dir, 'index.html')) }, assets };
}

function send(reply: FastifyReply, asset: Asset): FastifyReply {
  // no-cache: the browser revalidates, so a node upgraded in place serves its new page at once.
  return reply
    .code(200)
    .header('content-type', asset.type)
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', CSP)
    .send(asset.body);
}

/** Serves the dashboard at `GET /` and its files at `GET /assets/NAME`, without the API token. */
export function registerDashboard(app: FastifyInstance): void {
  const { index, assets } = loadAssets();
  const serve = (url: string, reply: FastifyReply): FastifyReply => {
    if (url === '/' || url === '/index.html') return send(reply, index);
    const name = url.startsWith('/assets/') ? url.slice('/assets/'.length) : '';
    const asset = assets.get(name);
    if (asset === undefined) return reply.code(404).send({ error: `no such dashboard file: ${name}` });
    return send(reply, asset);
  };
  const config = { [DASHBOARD]: true as const };
  // Answering in onRequest skips every later hook, the auth hook among them, for these routes only.
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config[DASHBOARD] !== true) return;
    const path = (req.url.split('?')[0] ?? '/').split('#')[0] ?? '/';
    return serve(path, reply);
  });
  app.get('/', { config }, async (req, reply) => serve('/', reply));
  app.get('/index.html', { config }, async (req, reply) => serve('/index.html', reply));
  app.get('/assets/:name', { config }, async (req, reply) => serve(`/assets/${(req.params as { name: string }).name}`, reply));
}
