// How client commands reach a node's HTTP API: --api URL, else MESHRUN_API, else the default; the
// token from MESHRUN_TOKEN. Failures become CliErrors with the design's exit codes, naming the URL.
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
  const token = env['MESHRUN_TOKEN'];
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
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
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    throw new CliError(`${url} answered ${res.status} with something that is not JSON; is that a meshrun node?`, EXIT.unreachable);
  }
  if (res.ok) return parsed as T;
  const msg = (parsed as Partial<ApiError> | null)?.error ?? `HTTP ${res.status}`;
  if (res.status === 401) throw new CliError(`${url}: ${msg}`, EXIT.usage);
  if (res.status >= 500) throw new CliError(`${url}: ${msg}`, EXIT.unreachable);
  throw new CliError(`${url}: ${msg}`, EXIT.usage);
}
