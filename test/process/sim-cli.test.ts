// `meshrun sim` as a user runs it: a scenario's timeline, verdict and end state with exit 0, the
// same bytes for the same seed, JSON, the HTML report, a sweep of seeds, and exit 2 with a message
// naming the field for a bad scenario file or bad flags.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Processes, runCli } from './spawn.js';

const SCENARIO = resolve(import.meta.dirname, '../../examples/scenarios/isolated-leader.yaml');
const procs = new Processes();
afterEach(async () => {
  await procs.cleanup();
});

describe('meshrun sim', () => {
  it('runs a scenario: timeline, verdict, end state; same seed, same bytes; JSON; an HTML report', async () => {
    const report = join(procs.tempDir(), 'run.html');
    const a = await runCli(['sim', SCENARIO, '--seed', '7', '--report', report]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/FAULT isolate n\d \(the leader\)/);
    expect(a.stdout).toContain('verdict: every invariant held');
    expect(a.stdout).toMatch(/demo-etl \([0-9a-f]+\): succeeded/);
    expect(a.stdout).toContain(`report written to ${report}`);
    expect(readFileSync(report, 'utf8')).toMatch(/^<!doctype html>/i);
    const b = await runCli(['sim', SCENARIO, '--seed', '7']);
    expect(b.stdout).toBe(a.stdout.replace(`report written to ${report}\n`, ''));
    const json = await runCli(['sim', SCENARIO, '--seed', '7', '--json']);
    const r = JSON.parse(json.stdout) as { ok: boolean; seed: number; jobs: { state: string }[] };
    expect(r).toMatchObject({ ok: true, seed: 7, jobs: [{ state: 'succeeded' }] });
  });

  it('sweeps random seeds with --seeds', async () => {
    const r = await runCli(['sim', '--seeds', '1-2', '--nodes', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sweep seeds 1-2, scheduler workload, 3 nodes.*2 seeds run, 0 violations/);
  });

  it.each([
    ['an unknown node', 'faults:\n  - { at: 1s, kill: n4 }', "faults[0].kill: unknown node 'n4'"],
    [
      'fault times going back',
      'faults:\n  - { at: 3s, kill: n1 }\n  - { at: 1s, restart: n1 }',
      'faults[1].at: fault times must not go back',
    ],
    ['behaviour for a task no DAG has', 'tasks:\n  nope: { duration: 1s }', "tasks.nope: no task 'nope'"],
    [
      'a DAG that does not validate',
      '',
      "dags[0]: DAG file dag.yaml does not validate: dag.yaml:3:28: tasks.b.deps[0]: task 'b' depends on unknown task 'c'",
    ],
  ])('exits 2 naming the field for %s', async (what, extra, message) => {
    const dir = procs.tempDir();
    const dag = what.startsWith('a DAG') ? 'name: d\ntasks:\n  b: { run: ./b.sh, deps: [c] }\n' : 'name: d\ntasks:\n  a: { run: ./a.sh }\n';
    writeFileSync(join(dir, 'dag.yaml'), dag);
    const file = join(dir, 'scenario.yaml');
    writeFileSync(file, `nodes: 3\ndags: [dag.yaml]\n${extra}\n`);
    const r = await runCli(['sim', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: ${message}`);
  });

  it.each([
    [['sim'], 'give a scenario file'],
    [['sim', SCENARIO, '--seed', 'x'], "--seed wants a whole number from 0 to 4294967295, got 'x'"],
    [['sim', SCENARIO, '--seeds', '1-3'], '--seeds is for a sweep of random seeds'],
    [['sim', '--seeds', '5-1'], 'the range ends before it starts'],
    [['sim', '--seeds', '1-3', '--report', 'x.html'], '--report needs a scenario file'],
  ])('meshrun %j exits 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
