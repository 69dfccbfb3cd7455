// How client commands reach the cluster's HTTP API (docs/cli.md §2): one or more node URLs from
// --api (repeatable, or comma-separated), else MESHRUN_API (comma-separated), else the default;
// the token from MESHRUN_TOKEN. A request goes to the node that answered last; when that node
// cannot be reached or cannot serve (5xx), the next URL is tried, so a command follows the cluster
// rather than one node. `submit --wait` also learns the other members' API URLs from GET
// /v1/nodes (not when a token is set: the token goes only where the user sends it). Failures
// become CliErrors with the exit codes of docs/cli.md §3, naming the URL.
import { at } from '../invariant.js';
import type { ApiError, ClusterView, NodeInfo } from '../api/types.js';
import { CliError, EXIT } from './errors.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:7070';
const TIMEOUT_MS = 10_000;
/** More time per byte sent: the node validates and replicates a big submit before it answers. */
const TIMEOUT_MS_PER_MIB = 20_000;

/** How long to wait for an answer to a request carrying `bodyBytes`. */
export function requestTimeoutMs(bodyBytes: number): number {
  return TIMEOUT_MS + Math.ceil((bodyBytes / 2 ** 20) * TIMEOUT_MS_PER_MIB);
}
/** Bound on the URLs learned from the cluster: a cluster is tens of nodes. */
const MAX_LEARNED = 64;

/** The API URLs to use: each --api value (comma-separated lists too), else MESHRUN_API's, else the default. */
export function apiBases(flag: string | readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const given = flag === undefined ? [] : typeof flag === 'string' ? [flag] : [...flag];
  const raw = given.length > 0 ? given : [env['MESHRUN_API'] ?? DEFAULT_API_URL];
  const urls = raw
    .flatMap((r) => r.split(','))
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (urls.length === 0) throw new CliError(`no API address given (expected e.g. ${DEFAULT_API_URL})`, EXIT.usage);
  return [...new Set(urls.map(checkedUrl))];
}

function checkedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`the API address ${JSON.stringify(raw)} is not a URL (expected e.g. ${DEFAULT_API_URL})`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`the API address ${raw} must be http:// or https://`, EXIT.usage);
  return raw.replace(/\/+$/, '');
}

export interface RequestOptions {
  /** Try the other URLs when this one cannot be reached or answers 5xx (default true). */
  readonly failover?: boolean;
}

interface Target {
  readonly url: string;
  /** For a URL learned from the cluster: the node it must be (checked on first use). */
  readonly node: string | null;
  checked: boolean;
}

/** The API of a cluster, through one or more of its nodes. */
export class ApiClient {
  private readonly targets: Target[];
  private current = 0;
  /** How many times a request moved on to another node. */
  failovers = 0;

  constructor(
    bases: readonly string[],
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Notes for the user (stderr): which node a command moved on to. */
    private readonly note: (s: string) => void = () => undefined,
  ) {
    if (bases.length === 0) throw new Error('ApiClient needs at least one URL');
    this.targets = bases.map((url) => ({ url, node: null, checked: true }));
  }

  static from(flag: string | readonly string[] | undefined, note?: (s: string) => void, env: NodeJS.ProcessEnv = process.env): ApiClient {
    return new ApiClient(apiBases(flag, env), env, note);
  }

  /** The URL of the node that answered last (or will be asked first). */
  get base(): string {
    return at(this.targets, this.current, 'the current target is one of them').url;
  }

  get urls(): readonly string[] {
    return this.targets.map((t) => t.url);
  }

  get<T>(path: string, o: RequestOptions = {}): Promise<T> {
    return this.run((base) => apiRequest<T>(base, 'GET', path, undefined, {}, this.env), o);
  }

  /** A GET whose successful answer may be text (a log): the body as text and its headers. */
  getText(path: string, o: RequestOptions = {}): Promise<{ text: string; headers: AnswerHeaders }> {
    return this.run((base) => apiGetText(base, path, this.env), o);
  }

  post<T>(path: string, body: unknown, headers: Readonly<Record<string, string>> = {}, o: RequestOptions = {}): Promise<T> {
    return this.run((base) => apiRequest<T>(base, 'POST', path, body, headers, this.env), o);
  }

  put<T>(path: string, body: unknown, o: RequestOptions = {}): Promise<T> {
    return this.run((base) => apiRequest<T>(base, 'PUT', path, body, {}, this.env), o);
  }

  delete<T>(path: string, o: RequestOptions = {}): Promise<T> {
    return this.run((base) => apiRequest<T>(base, 'DELETE', path, undefined, {}, this.env), o);
  }

  /**
   * Adds the API URLs of the cluster's members, as GET /v1/nodes tells them, behind the URLs given.
   * Best effort (nothing learned on failure); never with a token, which must not go to an address
   * the user did not give.
   */
  async learn(): Promise<number> {
    if (this.env['MESHRUN_TOKEN']) return 0;
    let nodes: NodeInfo[];
    try {
      nodes = (await this.get<{ nodes: NodeInfo[] }>('/v1/nodes', { failover: false })).nodes;
    } catch {
      return 0;
    }
    let added = 0;
    for (const n of nodes) {
      if (this.targets.length >= MAX_LEARNED + 8) break;
      if (n.role === null || typeof n.api !== 'string' || n.api === '') continue;
      let url: string;
      try {
        url = checkedUrl(n.api);
      } catch {
        continue;
      }
      if (this.targets.some((t) => t.url === url)) continue;
      this.targets.push({ url, node: n.id, checked: false });
      added++;
    }
    return added;
  }

  private async run<T>(send: (base: string) => Promise<T>, o: RequestOptions): Promise<T> {
    const failover = o.failover ?? true;
    const order = failover ? this.targets.map((_, i) => (this.current + i) % this.targets.length) : [this.current];
    const problems: string[] = [];
    let lastErr: CliError | null = null;
    for (const i of order) {
      const t = at(this.targets, i, 'the failover order lists target indexes');
      if (!t.checked && !(await this.check(t))) {
        problems.push(`${t.url}: not the node it was learned as`);
        continue;
      }
      if (i !== this.current) {
        this.note(`meshrun: ${this.base} did not answer; trying ${t.url}\n`);
        this.current = i;
        this.failovers++;
      }
      try {
        return await send(t.url);
      } catch (err) {
        if (!retryable(err)) throw err;
        lastErr = err;
        problems.push(err.message);
      }
    }
    if (problems.length <= 1 && lastErr !== null) throw lastErr;
    const code = lastErr?.exitCode ?? EXIT.unreachable;
    throw new CliError(`no node of the cluster could answer: ${problems.join('; ')}`, code, { tried: this.targets.map((t) => t.url) });
  }

  /** A learned URL is used only once it answers as the node the cluster named. */
  private async check(t: Target): Promise<boolean> {
    try {
      const view = await apiRequest<ClusterView>(t.url, 'GET', '/v1/cluster', undefined, {}, this.env);
      t.checked = view.self === t.node;
    } catch {
      return false;
    }
    return t.checked;
  }
}

/** Worth asking another node: this one could not be reached, answered 5xx, or answered something that is not JSON. */
function retryable(err: unknown): err is CliError {
  return err instanceof CliError && err.exitCode === EXIT.unreachable;
}

export async function apiGet<T>(base: string, path: string, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return apiRequest<T>(base, 'GET', path, undefined, {}, env);
}

/** A GET whose successful answer may be text (a log): the body as text and its content type. */
export async function apiGetText(
  base: string,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ text: string; headers: AnswerHeaders }> {
  const res = await send(base, 'GET', path, undefined, {}, env, 'text/plain, application/json');
  const text = res.text;
  if (res.ok) return { text, headers: res.headers };
  throw httpError(`${base}${path}`, res.status, text);
}

async function apiRequest<T>(
  base: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
): Promise<T> {
  const url = `${base}${path}`;
  const res = await send(base, method, path, body, headers, env, 'application/json');
  const text = res.text;
  if (!res.ok) throw httpError(url, res.status, text);
  try {
    return (text.length > 0 ? JSON.parse(text) : null) as T;
  } catch {
    throw new CliError(`${url} answered ${res.status} with something that is not JSON; is that a meshrun node?`, EXIT.unreachable);
  }
}

/** What a command reads of an HTTP answer. */
interface Answer {
  readonly status: number;
  readonly ok: boolean;
  readonly text: string;
  readonly headers: AnswerHeaders;
}

/** An answer's headers by lower-case name (the one `get` callers use). */
export interface AnswerHeaders {
  get(name: string): string | null;
}

/** Bound on an answer's body: the largest the API sends is a whole task log; a bigger one is refused. */
const MAX_ANSWER_BYTES = 256 * 2 ** 20;

/**
 * One request over node:http(s), not fetch: fetch loads undici on first use, about 80 ms of CPU
 * at every start of a command (measured: `meshrun jobs` spent 0.18 s of CPU, 0.09 s of it
 * `--version`'s), which alone broke the 150 ms target of `meshrun jobs` (issue 16).
 */
async function send(
  base: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
  accept: string,
): Promise<Answer> {
  const url = `${base}${path}`;
  const token = env['MESHRUN_TOKEN'];
  const payload = body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined;
  const timeoutMs = requestTimeoutMs(payload === undefined ? 0 : payload.byteLength);
  const requestHeaders: Record<string, string> = {
    accept,
    ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(payload.byteLength) } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...headers,
  };
  const outcome = await exchange(url, method, requestHeaders, payload, timeoutMs);
  if (outcome.ok) return outcome.answer;
  if (outcome.problem === 'timeout') {
    // The node took the connection but did not answer: busy or stuck, not absent.
    const resend = method === 'POST' ? '; a retried submit with the same --idempotency-key returns the same job' : '';
    throw new CliError(
      `the meshrun API at ${url} did not answer within ${(timeoutMs / 1000).toFixed(0)} s (the node may be busy${resend})`,
      EXIT.unreachable,
    );
  }
  throw new CliError(
    `cannot reach the meshrun API at ${url}: ${outcome.problem} (is a node running there? set --api or MESHRUN_API)`,
    EXIT.unreachable,
  );
}

type Exchange = { ok: true; answer: Answer } | { ok: false; problem: string };

/** Sends the request and reads the whole answer, within `timeoutMs` from the start; never throws. */
async function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  payload: Buffer | undefined,
  timeoutMs: number,
): Promise<Exchange> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, problem: 'not a URL' };
  }
  // https is loaded only for an https:// API: most commands talk to a node on plain http.
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<Exchange>((resolve) => {
    let settled = false;
    const settle = (e: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(e);
    };
    const req = request(target, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > MAX_ANSWER_BYTES) {
          settle({ ok: false, problem: `its answer is over ${MAX_ANSWER_BYTES / 2 ** 20} MiB` });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => settle({ ok: false, problem: err.message }));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const raw = res.headers;
        const get = (name: string): string | null => {
          const v = raw[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        };
        const text = Buffer.concat(chunks).toString('utf8');
        settle({ ok: true, answer: { status, ok: status >= 200 && status < 300, text, headers: { get } } });
      });
    });
    const timer = setTimeout(() => {
      settle({ ok: false, problem: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => settle({ ok: false, problem: err.message }));
    req.end(payload);
  });
}

/** An API error answer as a CliError: 401 and other 4xx are the caller's input (2); 5xx means the cluster cannot serve (3). */
function httpError(url: string, status: number, text: string): CliError {
  let msg = `HTTP ${status}`;
  let details: unknown = null;
  try {
    const parsed = JSON.parse(text) as Partial<ApiError> | null;
    if (typeof parsed?.error === 'string') msg = parsed.error;
    if (parsed?.details !== undefined) details = parsed.details;
  } catch {
    if (status >= 400 && status < 500 && text.length > 0 && text.length < 300) msg = text.trim();
  }
  const err = new CliError(`${msg} (${url})`, status >= 500 ? EXIT.unreachable : EXIT.usage, details);
  return Object.assign(err, { status });
}

/** The HTTP status of an API error answer, or null for other errors (unreachable, not JSON). */
export function httpStatus(err: unknown): number | null {
  const s = (err as { status?: unknown } | null)?.status;
  return err instanceof CliError && typeof s === 'number' ? s : null;
}
