// meshrun submit posts again, with the same Idempotency-Key, when the node answers 503 or not at
// all (the job may have been committed meanwhile), and when it gives up it names the key, so a big
// submit is never lost silently (issue 16). A fake API on loopback answers as told.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/cli/client.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { submitFile } from '../../src/cli/submit-command.js';

interface Posted {
  readonly key: string | undefined;
  readonly body: unknown;
}

let server: Server | null = null;
let dir: string | null = null;

afterEach(() => {
  server?.close();
  server = null;
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** A fake node: no peers listed, and POST /v1/jobs answered by `answers` in turn (the last one repeats). */
async function fakeApi(answers: readonly { status: number; body: unknown }[]): Promise<{ url: string; posts: Posted[] }> {
  const posts: Posted[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      let answer = { status: 200, body: { nodes: [] } as unknown };
      if (req.method === 'POST' && req.url === '/v1/jobs') {
        const key = req.headers['idempotency-key'];
        posts.push({ key: typeof key === 'string' ? key : undefined, body: JSON.parse(text) });
        answer = answers[Math.min(posts.length, answers.length) - 1] ?? answer;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const addr = s.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${addr.port}`, posts };
}

function dagFile(): string {
  dir = mkdtempSync(join(os.tmpdir(), 'meshrun-submit-retry-'));
  const file = join(dir, 'dag.yaml');
  writeFileSync(file, 'name: j\ntasks:\n  a: { handler: noop }\n');
  return file;
}

const unavailable = { status: 503, body: { error: 'the job was not committed within 10000 ms' } };

describe('meshrun submit on a 503', () => {
  it('posts again with the same key and returns the job the node then answers with', async () => {
    const api = await fakeApi([unavailable, { status: 200, body: { id: 'abcdefabcdef', existing: true } }]);
    const id = await submitFile(new ApiClient([api.url]), dagFile(), undefined, 1);
    expect(id).toBe('abcdefabcdef');
    expect(api.posts).toHaveLength(2);
    expect(api.posts[0]?.key).toMatch(/^cli-[0-9a-f]{24}$/);
    expect(api.posts[1]?.key).toBe(api.posts[0]?.key);
    expect(api.posts[1]?.body).toEqual({ name: 'j', tasks: { a: { handler: 'noop' } } });
  });

  it('gives up after three posts, naming the key to submit again with', async () => {
    const api = await fakeApi([unavailable]);
    const file = dagFile();
    const err = await submitFile(new ApiClient([api.url]), file, 'nightly-1', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.unreachable);
    expect((err as CliError).message).toContain(`'meshrun submit ${file} --idempotency-key nightly-1' returns it if it was`);
    expect(api.posts.map((p) => p.key)).toEqual(['nightly-1', 'nightly-1', 'nightly-1']);
  });

  it('does not post again after a 4xx (the DAG or key is refused, not lost)', async () => {
    const api = await fakeApi([{ status: 409, body: { error: 'the Idempotency-Key "k" is already used' } }]);
    const err = await submitFile(new ApiClient([api.url]), dagFile(), 'k', 1).catch((e: unknown) => e);
    expect((err as CliError).exitCode).toBe(EXIT.usage);
    expect(api.posts).toHaveLength(1);
  });
});
