// How client commands reach a node's HTTP API: --api URL, else MESHRUN_API, else the default; the
// token from MESHRUN_TOKEN. Failures become CliErrors with the exit codes of docs/cli.md §3, naming the URL.
import type { ApiError } from '../api/types.js';
import { CliError, EXIT } from './errors.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:7070';
const TIMEOUT_MS = 10_000;

export function apiBase(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag ?? env['MESHRUN_API'] ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`the API address ${JSON.stringify(raw)} is not a URL (expected e.g. ${DEFAULT_API_URL})`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`the API address ${raw} must be http:// or https://`, EXIT.usage);
  return raw.replace(/\/+$/, '');
}

export async function apiGet<T>(base: string, path: string, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return apiRequest<T>(base, 'GET', path, undefined, {}, env);
}

/** A GET whose successful answer may be text (a log): the body as text and its content type. */
export async function apiGetText(base: string, path: string, env: NodeJS.ProcessEnv = process.env): Promise<{ text: string; headers: Headers }> {
  const res = await send(base, 'GET', path, undefined, {}, env, 'text/plain, application/json');
  const text = await res.text();
  if (res.ok) return { text, headers: res.headers };
  throw httpError(`${base}${path}`, res.status, text);
}

export async function apiPost<T>(
  base: string,
  path: string,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  return apiRequest<T>(base, 'POST', path, body, headers, env);
}

async function apiRequest<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
): Promise<T> {
  const url = `${base}${path}`;
  const res = await send(base, method, path, body, headers, env, 'application/json');
  const text = await res.text();
  if (!res.ok) throw httpError(url, res.status, text);
  try {
    return (text.length > 0 ? JSON.parse(text) : null) as T;
  } catch {
    throw new CliError(`${url} answered ${res.status} with something that is not JSON; is that a meshrun node?`, EXIT.unreachable);
  }
}

async function send(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
  accept: string,
): Promise<Response> {
  const url = `${base}${path}`;
  const token = env['MESHRUN_TOKEN'];
  try {
    return await fetch(url, {
      method,
      headers: {
        accept,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new CliError(`cannot reach the meshrun API at ${url}: ${cause} (is a node running there? set --api or MESHRUN_API)`, EXIT.unreachable);
  }
}

/** An API error answer as a CliError: 401 and other 4xx are the caller's input (2); 5xx means the cluster cannot serve (3). */
function httpError(url: string, status: number, text: string): CliError {
  let msg = `HTTP ${status}`;
  try {
    const parsed = JSON.parse(text) as Partial<ApiError> | null;
    if (typeof parsed?.error === 'string') msg = parsed.error;
  } catch {
    if (status >= 400 && status < 500 && text.length > 0 && text.length < 300) msg = text.trim();
  }
  const err = new CliError(`${msg} (${url})`, status >= 500 ? EXIT.unreachable : EXIT.usage);
  return Object.assign(err, { status });
}

/** The HTTP status of an API error answer, or null for other errors (unreachable, not JSON). */
export function httpStatus(err: unknown): number | null {
  const s = (err as { status?: unknown } | null)?.status;
  return err instanceof CliError && typeof s === 'number' ? s : null;
}
