// Every command's output arrives whole into a pipe, even one read slowly: the CLI must not exit
// before stdout has drained (it used to, cutting piped output at the pipe's 64 KiB buffer).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'meshrun-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `meshrun args` with its stdout pipe left unread until the process has exited or `holdMs`
 * has passed, then reads everything. A CLI that exits without draining loses what did not fit in
 * the pipe; one that drains waits for the reader (and is read after `holdMs`).
 */
function runReadingLate(args: readonly string[], holdMs: number): Promise<{ code: number | null; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, [...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = child.stdout;
    out.pause();
    const chunks: Buffer[] = [];
    let code: number | null | undefined;
    let ended = false;
    const done = (): void => {
      if (ended && code !== undefined) resolve({ code, stdout: Buffer.concat(chunks) });
    };
    const startReading = (): void => {
      clearTimeout(timer);
      out.on('data', (c: Buffer) => chunks.push(c));
      out.on('end', () => {
        ended = true;
        done();
      });
      out.resume();
    };
    const timer = setTimeout(startReading, holdMs);
    child.on('error', reject);
    child.on('exit', (c) => {
      code = c;
      startReading();
      done();
    });
  });
}

describe('CLI output into a pipe', () => {
  it('arrives whole when the reader is slow: a JSON result of several hundred KiB parses', async () => {
    writeFileSync(join(dir, 'dag.yaml'), 'name: big\ntasks:\n  fan: { handler: noop, shards: 400 }\n');
    writeFileSync(join(dir, 'scenario.yaml'), 'nodes: 3\ndags: [dag.yaml]\nfaults: []\n');
    const { code, stdout } = await runReadingLate(['sim', join(dir, 'scenario.yaml'), '--json'], 5_000);
    expect(code).toBe(0);
    expect(stdout.length).toBeGreaterThan(256 * 1024);
    const parsed = JSON.parse(stdout.toString('utf8')) as { verdict?: unknown };
    expect(parsed).toHaveProperty('verdict');
  }, 60_000);
});
