// The meshrun executable's error handling: usage errors exit 2, an unreachable API exits 3, each
// with a message naming the problem.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Processes, runCli, unusedPort } from './spawn.js';

const procs = new Processes();
afterEach(async () => {
  await procs.cleanup();
});

describe('meshrun CLI', () => {
  it.each([
    [['node', '--voters', '2'], /--voters must be odd/],
    [['node', '--slots', 'many'], /--slots must be a positive integer/],
    [['node', '--api', '0.0.0.0:7070'], /requires a token \(--api-token-file FILE or the MESHRUN_TOKEN environment variable\)/],
    [['node', '--api-token', 'sesame'], /--api-token is refused: .*use --api-token-file FILE or the MESHRUN_TOKEN environment variable/],
    [
      ['node', '--listen', '/ip4/0.0.0.0/tcp/0'],
      /--listen \/ip4\/0\.0\.0\.0\/tcp\/0 is not a loopback address: .*requires --swarm-key FILE.*meshrun keygen/,
    ],
    [['node', '--api-token-file', '/nonexistent/meshrun-token'], /cannot read --api-token-file \/nonexistent\/meshrun-token/],
    [['node', '--bootstrap', '/ip4/127.0.0.1/tcp/1'], /must end with \/p2p\//],
    [['node', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['no-such-command'], /unknown command 'no-such-command'/],
  ])('meshrun %j exits 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a data directory it cannot use, with exit 2', async () => {
    const dir = procs.tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const r = await runCli(['node', '--data', file, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`data directory ${file} exists but is not a directory`);
    const under = await runCli(['node', '--data', join(file, 'sub'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0']);
    expect(under.code).toBe(2);
    expect(under.stderr).toContain(join(file, 'sub'));
  });

  it('refuses a corrupt identity key with exit 2', async () => {
    const data = join(procs.tempDir(), 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'node.key'), 'garbage');
    const r = await runCli(['node', '--data', data, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('node.key');
  });

  it('makes a data directory open to other users private on start, saying so in its log', async () => {
    const data = join(procs.tempDir(), 'data');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    // A corrupt key stops the node right after the data directory is prepared, before any network starts.
    writeFileSync(join(data, 'node.key'), 'garbage', { mode: 0o644 });
    const r = await runCli(['node', '--data', data, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'], {
      env: { MESHRUN_LOG_FORMAT: 'json', MESHRUN_LOG_LEVEL: 'info' },
    });
    expect(r.code).toBe(2);
    const info = r.stderr
      .split('\n')
      .filter((l) => l.includes('"level":30'))
      .join('\n');
    expect(info).toContain(`made ${data} private (mode 755 -> 700)`);
    expect(info).toContain(`made ${join(data, 'node.key')} private (mode 644 -> 600)`);
    expect(statSync(data).mode & 0o777).toBe(0o700);
  });

  it('exits 3 naming the URL when no node answers', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const r = await runCli(['cluster', '--api', url]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(url);
    const viaEnv = await runCli(['cluster'], { env: { MESHRUN_API: url } });
    expect(viaEnv.code).toBe(3);
    expect(viaEnv.stderr).toContain(url);
  });

  it('exits 3 when a joining node finds no member, naming the addresses tried', async () => {
    const port = await unusedPort();
    const addr = `/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN`;
    const data = join(procs.tempDir(), 'data');
    const r = await runCli([
      'node',
      '--data',
      data,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--api',
      '127.0.0.1:0',
      '--bootstrap',
      addr,
      '--join-timeout',
      '2s',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`tried ${addr}`);
  });

  it('keygen writes a key file once and refuses to overwrite it', async () => {
    const file = join(procs.tempDir(), 'swarm.key');
    const first = await runCli(['keygen', file]);
    expect(first.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    const again = await runCli(['keygen', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    const toStdout = await runCli(['keygen']);
    expect(toStdout.stdout).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\//);
  });

  it('help exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node');
    expect(r.stdout).toContain('cluster');
  });
});

describe('meshrun --version, validate, and errors as JSON', () => {
  it('prints the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('validate checks a DAG file locally: exit 0 when valid, 2 with every problem and its line', async () => {
    const dir = procs.tempDir();
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'name: etl\ntasks:\n  a: { run: "true" }\n  b: { run: "true", deps: [a], shards: 3 }\n');
    const ok = await runCli(['validate', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('a valid DAG "etl" with 2 tasks (4 to run');
    expect(JSON.parse((await runCli(['validate', good, '--json'])).stdout)).toEqual({
      file: good,
      valid: true,
      name: 'etl',
      specs: 2,
      tasks: 4,
    });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: etl\ntasks:\n  a: { run: "true", deps: [c] }\n');
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:3:\d+: tasks\.a\.deps\[0\]: task 'a' depends on unknown task 'c'/);
  });

  it('with --json, an error is a JSON object on stdout with the same exit code', async () => {
    const dir = procs.tempDir();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: etl\ntasks:\n  a: { run: "true", deps: [c] }\n');
    const invalid = await runCli(['validate', bad, '--json']);
    expect(invalid.code).toBe(2);
    const body = JSON.parse(invalid.stdout) as { error: string; details: { problems: string[] } };
    expect(body.error).toContain('is not a valid DAG');
    expect(body.details.problems[0]).toContain("depends on unknown task 'c'");
    const port = await unusedPort();
    const unreachable = await runCli(['jobs', '--json', '--api', `http://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(3);
    expect(JSON.parse(unreachable.stdout)).toMatchObject({ error: expect.stringContaining(`127.0.0.1:${port}`) });
  });
});
