// The node's HTTP API (fastify). Every node serves it: jobs (submit, read, list, cancel), the
// cluster status and, behind the hidden --test-hooks flag, the probe hooks that let tests check a
// proposal reached every node; behind --test-partitions, the partition endpoints. Every request
// passes the Host and Origin checks first (host-guard.ts), then the token check (auth.ts).
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DagError, normalizeDagInSlices } from '../dag/parse.js';
import type { JobSpec, JobSummary } from '../scheduler/types.js';
import { registerJobReads, type JobReads } from './job-read-routes.js';
import {
  sendFailure,
  type CancelOutcome,
  type ProbeOutcome,
  type RerunOutcome,
  type RerunRequest,
  type SubmitOutcome,
} from './outcomes.js';
import { registerRerunRoute } from './rerun-route.js';
import type { ApiError, ClusterView } from './types.js';
import { installAuth } from './auth.js';
import { registerDashboard } from './dashboard.js';
import { installHostGuard, servedHosts, type ServedHosts } from './host-guard.js';
import { registerPartitionRoutes, type PartitionBackend } from './partition-routes.js';
import { registerPoolRoutes, type PoolBackend } from './pool-routes.js';
import { registerScheduleRoutes, type ScheduleBackend } from './schedule-routes.js';
import { registerConsistentReads, registerSurface, type SurfaceBackend } from './surface.js';

/** Where the server reports requests that failed inside it (the node's pino logger). */
export interface ApiLogger {
  error(fields: Record<string, unknown>, msg: string): void;
}

/** What the server asks of the node; the server itself holds no state. */
export interface ApiBackend extends SurfaceBackend {
  cluster(): ClusterView;
  /** GET /v1/jobs/{id} and its tasks, paged (job-read-routes.ts). */
  readonly jobs: JobReads & {
    submit(spec: JobSpec, idempotencyKey: string | null): Promise<SubmitOutcome>;
    list(): JobSummary[];
    cancel(id: string): Promise<CancelOutcome>;
    /** Re-runs (docs/http-api.md §16); a backend without it serves no re-run route. */
    rerun?(id: string, req: RerunRequest): Promise<RerunOutcome>;
  };
  /** Schedules (docs/http-api.md §15); a backend without them serves none of their routes. */
  readonly schedules?: ScheduleBackend;
  /** Pools (docs/http-api.md §17); a backend without them serves none of their routes. */
  readonly pools?: PoolBackend;
  /** Present only with --test-hooks. */
  readonly debug?: {
    probe(value: string): Promise<ProbeOutcome>;
    probes(): readonly string[];
    /** Diagnostics: connections, transport counters, the address book. */
    net(): unknown;
    /** Counters of the Raft core, the scheduler replica and this node's worker (benchmarks read them). */
    stats(): unknown;
  };
  /** Present only with --test-partitions: cuts this node's connections (tests and benchmarks). */
  readonly partition?: PartitionBackend;
}

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token: string | null;
  readonly backend: ApiBackend;
  readonly logger: ApiLogger;
}

export interface ApiServer {
  /** `http://HOST:PORT` with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

const probeBody = z.object({ value: z.string().min(1).max(4096) });
/** Printable ASCII, bounded: the key is stored in the replicated state until its job is removed. */
const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,128}$/);
const jobParams = z.object({ id: z.string().min(1).max(128) });
/** A large DAG as JSON; the encoded submit command has its own, tighter limit that names itself. */
const BODY_LIMIT = 8 << 20;

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  installErrors(app, opts.logger);
  // Known once listening (the port may be 0 until then); nothing is answered before.
  let served: ServedHosts | null = null;
  installHostGuard(app, () => served); // Host and Origin: the first hook, before every route
  refuseDeclaredOversize(app);
  registerDashboard(app); // GET / and /assets/*, exempt from the token: before installAuth
  if (opts.token !== null) installAuth(app, opts.token);
  registerConsistentReads(app, opts.backend); // ?consistent=true on GET /v1/*: before the routes
  registerSurface(app, opts.backend); // nodes, events, task logs, metrics

  app.get('/v1/cluster', async () => opts.backend.cluster());

  const jobs = opts.backend.jobs;
  app.post('/v1/jobs', async (req, reply) => {
    const rawKey = req.headers['idempotency-key'];
    let key: string | null = null;
    if (rawKey !== undefined) {
      const k = idempotencyKey.safeParse(rawKey);
      if (!k.success) return fail(reply, 400, 'the Idempotency-Key header must be 1 to 128 printable ASCII characters');
      key = k.data;
    }
    let spec: JobSpec;
    try {
      // In slices, the node's other work running between them: a 50,000-task DAG is no stall (issue 16).
      spec = await normalizeDagInSlices(req.body, () => new Promise((resolve) => setImmediate(resolve)));
    } catch (err) {
      if (err instanceof DagError) return fail(reply, 400, `invalid DAG: ${err.message}`, { problems: err.problems });
      throw err;
    }
    const r = await jobs.submit(spec, key);
    if (!r.ok) return sendFailure(reply, r);
    return reply.code(r.existing ? 200 : 201).send({ id: r.id, existing: r.existing });
  });
  app.get('/v1/jobs', async () => ({ jobs: jobs.list() }));
  registerJobReads(app, jobs);
  app.post('/v1/jobs/:id/cancel', async (req, reply) => {
    const p = jobParams.safeParse(req.params);
    if (!p.success) return fail(reply, 404, 'no such job');
    const r = await jobs.cancel(p.data.id);
    if (!r.ok) return sendFailure(reply, r);
    return { id: r.id, state: r.state };
  });

  if (jobs.rerun) registerRerunRoute(app, jobs.rerun.bind(jobs));
  if (opts.backend.schedules) registerScheduleRoutes(app, opts.backend.schedules);
  if (opts.backend.pools) registerPoolRoutes(app, opts.backend.pools);

  const debug = opts.backend.debug;
  if (debug) {
    app.post('/v1/debug/probe', async (req, reply) => {
      const body = probeBody.safeParse(req.body);
      if (!body.success) return fail(reply, 400, 'body must be {"value": "<1 to 4096 characters>"}');
      const r = await debug.probe(body.data.value);
      if (!r.ok) return sendFailure(reply, r);
      return { index: r.index };
    });
    app.get('/v1/debug/probes', async () => ({ values: debug.probes() }));
    app.get('/v1/debug/net', async () => debug.net());
    app.get('/v1/debug/stats', async () => debug.stats());
  }
  if (opts.backend.partition) registerPartitionRoutes(app, opts.backend.partition);

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address() as AddressInfo;
  served = servedHosts(opts.host, addr.port);
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () => app.close(),
  };
}

function fail(reply: FastifyReply, status: number, error: string, details?: unknown): FastifyReply {
  const body: ApiError = details === undefined ? { error } : { error, details };
  return reply.code(status).send(body);
}

function installErrors(app: FastifyInstance, logger: ApiLogger): void {
  app.setNotFoundHandler((req, reply) => fail(reply, 404, `no such endpoint: ${req.method} ${req.url}`));
  app.setErrorHandler((err: { statusCode?: number; message?: string; code?: string }, req: FastifyRequest, reply) => {
    // Fastify's own 413 and 415: the contract's 400, with a message that says what to send instead.
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return fail(reply, 400, `request body too large: the limit is ${BODY_LIMIT} bytes (8 MiB)`, { limitBytes: BODY_LIMIT });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return fail(
        reply,
        400,
        `unsupported content-type ${JSON.stringify(req.headers['content-type'] ?? '')}: send JSON (content-type: application/json)`,
      );
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) logger.error({ err, url: req.url }, 'api request failed');
    return fail(reply, status, status >= 500 ? 'internal error (see the node log)' : (err.message ?? 'bad request'));
  });
}

/**
 * A body whose declared length is over the limit is refused before it is read, and the rest of it
 * is read and dropped (Node does that for an unread request once the answer is sent) rather than
 * the connection closed under the client while it still uploads: a client that writes before it
 * reads would see a broken pipe instead of the 400 that says why.
 */
function refuseDeclaredOversize(app: FastifyInstance): void {
  const tooLarge = `request body too large: the limit is ${BODY_LIMIT} bytes (8 MiB)`;
  app.addHook('onRequest', async (req, reply) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > BODY_LIMIT) return fail(reply, 400, tooLarge, { limitBytes: BODY_LIMIT });
  });
}
