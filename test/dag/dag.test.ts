// The DAG file contract (docs/dag-file.md §1): YAML and JSON in, a normalised JobSpec out, and an
// error naming every problem (with its place) when the file is wrong. Also the state machine's
// re-check (checkJobSpec) and, as properties, that random acyclic DAGs are accepted and round-trip
// while an added back edge is always reported as a real cycle.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { at } from '../../src/invariant.js';
import { DurationError, formatDuration, parseDuration } from '../../src/dag/duration.js';
import { DagError, TASK_DEFAULTS, normalizeDag, parseDagText } from '../../src/dag/parse.js';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { checkJobSpec } from '../../src/scheduler/dag-check.js';
import { DAG_LIMITS } from '../../src/scheduler/dag-limits.js';
import { parseTaskName, taskCount, taskName } from '../../src/scheduler/task-names.js';
import { TRIGGER_RULES } from '../../src/scheduler/trigger-rules.js';
import { DEFAULT_RETENTION_MS, type JobSpec, type Json, type TaskSpec } from '../../src/scheduler/types.js';

/** The problems of a DagError thrown by `f`; fails the test when `f` succeeds or throws anything else. */
function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    if (err instanceof DagError) {
      expect(err.message).toBe(err.problems.join('; '));
      return [...err.problems];
    }
    throw err;
  }
  throw new Error('expected a DagError');
}

const yamlProblems = (text: string): string[] => problemsOf(() => parseDagText(text, 'dag.yaml'));
const rawProblems = (raw: unknown): string[] => problemsOf(() => normalizeDag(raw));
const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;

/** A spec as normalizeDag builds it for `name` with nothing but `exec` set. */
function plain(name: string, exec: TaskSpec['exec'], over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name,
    exec,
    deps: [],
    retries: 0,
    backoffMs: 1000,
    timeoutMs: 3_600_000,
    priority: 0,
    slots: 1,
    env: {},
    cwd: null,
    shards: null,
    ...over,
  };
}

const DESIGN_EXAMPLE = lines(
  'name: nightly-etl',
  'defaults: { retries: 2, backoff: 2s, timeout: 10m, priority: 0, slots: 1 }',
  'tasks:',
  '  extract:   { run: ./extract.sh }',
  '  transform: { run: node transform.js, deps: [extract], shards: 8, priority: 10 }',
  '  load:      { run: ./load.sh, deps: [transform], env: { TARGET: prod }, cwd: /srv/etl }',
  '  warm:      { handler: noop }',
);

describe('reading DAG files', () => {
  const d = { retries: 2, backoffMs: 2000, timeoutMs: 600_000 };
  const expected: JobSpec = {
    name: 'nightly-etl',
    retentionMs: DEFAULT_RETENTION_MS,
    tasks: [
      plain('extract', { kind: 'run', command: './extract.sh' }, d),
      plain('transform', { kind: 'run', command: 'node transform.js' }, { ...d, deps: ['extract'], shards: 8, priority: 10 }),
      plain('load', { kind: 'run', command: './load.sh' }, { ...d, deps: ['transform'], env: { TARGET: 'prod' }, cwd: '/srv/etl' }),
      plain('warm', { kind: 'handler', name: 'noop', args: null }, d),
    ],
  };

  it("reads the design's example", () => {
    expect(parseDagText(DESIGN_EXAMPLE, 'etl.yaml')).toEqual(expected);
  });

  it('reads the same DAG as JSON, and as a parsed value (the API body)', () => {
    const raw = {
      name: 'nightly-etl',
      defaults: { retries: 2, backoff: '2s', timeout: '10m', priority: 0, slots: 1 },
      tasks: {
        extract: { run: './extract.sh' },
        transform: { run: 'node transform.js', deps: ['extract'], shards: 8, priority: 10 },
        load: { run: './load.sh', deps: ['transform'], env: { TARGET: 'prod' }, cwd: '/srv/etl' },
        warm: { handler: 'noop' },
      },
    };
    expect(parseDagText(JSON.stringify(raw, null, 2), 'etl.json')).toEqual(expected);
    expect(parseDagText(JSON.stringify(raw), 'etl.json')).toEqual(expected);
    expect(normalizeDag(raw)).toEqual(expected);
  });

  it('applies the documented defaults when neither the task nor defaults sets a field', () => {
    const spec = parseDagText(lines('name: j', 'tasks:', '  a: { run: echo hi }'), 'j.yaml');
    expect(spec.tasks[0]).toEqual(plain('a', { kind: 'run', command: 'echo hi' }));
    expect(TASK_DEFAULTS).toEqual({ retries: 0, backoffMs: 1000, timeoutMs: 3_600_000, priority: 0, slots: 1 });
    expect(spec.retentionMs).toBe(24 * 3_600_000);
  });

  it('takes each field from the task, else from defaults, else the default', () => {
    const spec = parseDagText(
      lines(
        'name: j',
        'retention: 1h',
        'defaults: { retries: 3, backoff: 500ms, timeout: 1m, priority: -5, slots: 2 }',
        'tasks:',
        '  a: { run: x }',
        '  b: { run: x, retries: 0, backoff: 0s, timeout: 1h, priority: 7, slots: 1 }',
        '  c: { run: x, timeout: 2s }',
      ),
      'j.yaml',
    );
    expect(spec.retentionMs).toBe(3_600_000);
    const pick = (t: TaskSpec) => [t.retries, t.backoffMs, t.timeoutMs, t.priority, t.slots];
    expect(spec.tasks.map(pick)).toEqual([
      [3, 500, 60_000, -5, 2],
      [0, 0, 3_600_000, 7, 1],
      [3, 500, 2000, -5, 2],
    ]);
    // A partial defaults block leaves the other fields at their defaults.
    const partial = normalizeDag({ name: 'j', defaults: { retries: 1 }, tasks: { a: { run: 'x' } } });
    expect(pick(partial.tasks[0] as TaskSpec)).toEqual([1, 1000, 3_600_000, 0, 1]);
  });

  it('keeps tasks in file order, integer-like names included', () => {
    const order = (s: JobSpec) => s.tasks.map((t) => t.name);
    expect(
      order(
        parseDagText(
          lines('name: j', 'tasks:', '  b: { run: x }', '  10: { run: x }', '  a: { run: x, deps: [10] }', '  2: { run: x }'),
          'j.yaml',
        ),
      ),
    ).toEqual(['b', '10', 'a', '2']);
    expect(order(parseDagText('{"name":"j","tasks":{"b":{"run":"x"},"10":{"run":"x"},"a":{"run":"x","deps":["10"]}}}', 'j.json'))).toEqual([
      'b',
      '10',
      'a',
    ]);
  });

  it('reads handlers with args, run tasks, env values written as numbers or booleans', () => {
    const spec = parseDagText(
      lines(
        'name: j',
        'tasks:',
        '  nap: { handler: sleep, args: { ms: 250 } }',
        '  custom: { handler: "my.pkg:resize", args: { sizes: [1, 2.5], tag: null, deep: { ok: true } } }',
        '  sh: { run: "echo \\"$TARGET\\" && exit 3", env: { PORT: 8080, DEBUG: true, EMPTY: "" } }',
      ),
      'j.yaml',
    );
    expect(spec.tasks.map((t) => t.exec)).toEqual([
      { kind: 'handler', name: 'sleep', args: { ms: 250 } },
      { kind: 'handler', name: 'my.pkg:resize', args: { sizes: [1, 2.5], tag: null, deep: { ok: true } } },
      { kind: 'run', command: 'echo "$TARGET" && exit 3' },
    ]);
    expect(spec.tasks[2]?.env).toEqual({ PORT: '8080', DEBUG: 'true', EMPTY: '' });
  });

  it('keeps deps as spec names; a sharded spec stands for name[0]..name[N-1]', () => {
    const spec = parseDagText(
      lines('name: j', 'tasks:', '  split: { run: x, shards: 4 }', '  merge: { run: x, deps: [split] }', '  one: { run: x, shards: 1 }'),
      'j.yaml',
    );
    expect(spec.tasks.map((t) => [t.name, t.shards, t.deps])).toEqual([
      ['split', 4, []],
      ['merge', null, ['split']],
      ['one', 1, []],
    ]);
    expect(taskCount(spec)).toBe(6);
    const split = spec.tasks[0] as TaskSpec;
    const names = Array.from({ length: split.shards as number }, (_, i) => taskName(split.name, i));
    expect(names).toEqual(['split[0]', 'split[1]', 'split[2]', 'split[3]']);
    expect(taskName('merge', null)).toBe('merge');
    for (const [i, n] of names.entries()) expect(parseTaskName(n)).toEqual({ spec: 'split', shard: i });
    expect(parseTaskName('merge')).toEqual({ spec: 'merge', shard: null });
    expect(parseTaskName('split[01]')).toBeNull();
    expect(parseTaskName('a b')).toBeNull();
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['0s', 0],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['0.5h', 1_800_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    [' 10m ', 600_000],
    ['1d', 86_400_000],
    ['30d', 30 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['1w2d', 9 * 86_400_000],
    ['1d12h', 36 * 3_600_000],
    ['1.5d', 36 * 3_600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each([
    ['', /empty duration/],
    ['5', /'5' has no unit/],
    ['1y', /invalid duration '1y'/],
    ['1d1w', /each unit must be smaller/],
    ['-1s', /invalid duration/],
    ['1 s', /invalid duration/],
    ['1S', /invalid duration/],
    ['.5s', /invalid duration/],
    ['30s10m', /each unit must be smaller/],
    ['1.5ms', /not a whole number of milliseconds/],
    ['999999999999999h', /too large/],
  ])('%j is refused', (text, why) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(why);
  });

  it('formats any whole number of ms to text that reads back the same', () => {
    fc.assert(fc.property(fc.oneof(fc.nat(100_000), fc.nat(40 * 24 * 3_600_000)), (ms) => parseDuration(formatDuration(ms)) === ms));
  });

  it('retention takes days and weeks, up to 365 days', () => {
    expect(parseDagText(lines('name: j', 'retention: 30d', 'tasks:', '  a: { run: x }'), 'dag.yaml').retentionMs).toBe(30 * 86_400_000);
    expect(parseDagText(lines('name: j', 'retention: 2w', 'tasks:', '  a: { run: x }'), 'dag.yaml').retentionMs).toBe(14 * 86_400_000);
    expect(yamlProblems(lines('name: j', 'retention: 53w', 'tasks:', '  a: { run: x }'))).toEqual([
      'dag.yaml:2:12: retention: 53w is out of range: must be from 0ms to 365d',
    ]);
  });

  it('names the field and the bad duration in a DAG file', () => {
    const p = yamlProblems(
      lines(
        'name: j',
        'defaults: { backoff: 1x }',
        'tasks:',
        '  a: { run: x, timeout: 5 }',
        '  b: { run: x, timeout: 0s, backoff: 10m }',
        '  c: { run: x, timeout: [1s] }',
      ),
    );
    expect(p).toEqual([
      "dag.yaml:2:22: defaults.backoff: invalid duration '1x': expected a number and a unit (ms, s, m, h, d or w), like 250ms, 2s, 1.5s, 10m, 1h, 1h30m, 30d or 2w",
      'dag.yaml:4:25: tasks.a.timeout: 5 has no unit: write 5s, 5ms, 5m or 5h',
      'dag.yaml:5:38: tasks.b.backoff: 10m is out of range: must be from 0ms to 5m (the wait doubles per retry up to that)',
      'dag.yaml:5:25: tasks.b.timeout: 0s is out of range: must be from 1ms to 30d',
      'dag.yaml:6:16: tasks.c.timeout: must be a duration like 250ms, 2s, 1.5s, 10m, 1h, 1h30m, 30d or 2w, got a list',
    ]);
  });
});

describe('errors name the problem and its place', () => {
  it('a cycle, as a path', () => {
    const p = yamlProblems(
      lines(
        'name: j',
        'tasks:',
        '  a: { run: x, deps: [b] }',
        '  b: { run: x, deps: [c] }',
        '  c: { run: x, deps: [a] }',
        '  d: { run: x, deps: [a] }',
      ),
    );
    expect(p).toEqual(['dag.yaml:3:23: tasks.a.deps[0]: cycle: a -> b -> c -> a (each task depends on the next)']);
  });

  it('a task that depends on itself, or lists a dep twice', () => {
    expect(rawProblems({ name: 'j', tasks: { a: { run: 'x', deps: ['a'] }, b: { run: 'x', deps: ['a', 'a'] } } })).toEqual([
      "tasks.a.deps[0]: task 'a' depends on itself",
      "tasks.b.deps[1]: task 'b' lists dependency 'a' twice",
    ]);
  });

  it('an unknown dependency, which task names it, and a near name', () => {
    const p = yamlProblems(
      lines('name: j', 'tasks:', '  extract: { run: x }', '  transform:', '    run: x', '    deps: [extract, extrcat, nothing-like-it]'),
    );
    expect(p).toEqual([
      "dag.yaml:6:21: tasks.transform.deps[1]: task 'transform' depends on unknown task 'extrcat' (did you mean 'extract'?)",
      "dag.yaml:6:30: tasks.transform.deps[2]: task 'transform' depends on unknown task 'nothing-like-it'",
    ]);
    // One letter is too little to guess from.
    expect(rawProblems({ name: 'j', tasks: { a: { run: 'x', deps: ['q'] } } })).toEqual([
      "tasks.a.deps[0]: task 'a' depends on unknown task 'q'",
    ]);
  });

  it('a dependency on a single shard', () => {
    expect(rawProblems({ name: 'j', tasks: { a: { run: 'x', shards: 3 }, b: { run: 'x', deps: ['a[1]'] } } })).toEqual([
      "tasks.b.deps[0]: task 'b' depends on 'a[1]', a single shard: deps name whole tasks, and a dep on 'a' waits for all its shards",
    ]);
  });

  it('a duplicate name, in YAML and in JSON (where a plain JSON.parse would keep the last)', () => {
    expect(yamlProblems(lines('name: j', 'tasks:', '  a: { run: x }', '  b: { run: x }', '  a: { run: y }'))).toEqual([
      "dag.yaml:5:3: tasks.a: duplicate key 'a' here: each key may appear once in a mapping",
    ]);
    const json = '{\n  "name": "j",\n  "tasks": {\n    "a": { "run": "x" },\n    "\\u0061": { "run": "y" }\n  }\n}';
    expect(problemsOf(() => parseDagText(json, 'dag.json'))).toEqual([
      "dag.json:5:5: tasks.a: duplicate key 'a' here: each key may appear once in a mapping",
    ]);
    expect(yamlProblems(lines('name: j', 'name: k', 'tasks: { a: { run: x } }'))).toEqual([
      "dag.yaml:2:1: name: duplicate key 'name' at the top level: each key may appear once in a mapping",
    ]);
  });

  it('a duplicate name in a normalised spec (checkJobSpec)', () => {
    const spec = normalizeDag({ name: 'j', tasks: { a: { run: 'x' }, b: { run: 'y' } } });
    const r = checkJobSpec({ ...spec, tasks: [...spec.tasks, { ...spec.tasks[0] }] });
    expect(r).toEqual({ ok: false, error: "invalid job spec: tasks[2]: task name 'a' is used twice (specs 0 and 2)" });
  });

  it('an unknown field, with the field it probably meant', () => {
    const p = yamlProblems(
      lines('name: j', 'default: {}', 'defaults: { retires: 1 }', 'tasks:', '  a: { run: x, dep: [b] }', '  b: { run: x }'),
    );
    expect(p).toEqual([
      "dag.yaml:3:22: defaults.retires: unknown field 'retires' (did you mean 'retries'?); expected one of: retries, backoff, timeout, priority, slots, trigger, on, pool",
      "dag.yaml:2:1: default: unknown field 'default' (did you mean 'defaults'?); expected one of: name, defaults, retention, timeout, concurrency, tasks",
      "dag.yaml:5:16: tasks.a.dep: unknown field 'dep' (did you mean 'deps'?); expected one of: run, handler, args, deps, shards, priority, retries, backoff, timeout, slots, env, cwd, trigger, on, pool",
    ]);
  });

  it('a trigger rule that is not one of the six, with the one it probably meant', () => {
    expect(yamlProblems(lines('name: j', 'defaults: { trigger: 7 }', 'tasks:', '  a: { run: x, trigger: all_sucess }'))).toEqual([
      'dag.yaml:2:22: defaults.trigger: must be a trigger rule (all_success, all_done, all_failed, one_success, one_failed, none_failed), got 7',
      'dag.yaml:4:25: tasks.a.trigger: must be a trigger rule (all_success, all_done, all_failed, one_success, one_failed, none_failed), got "all_sucess" (did you mean \'all_success\'?)',
    ]);
    // The normalised form never spells out the default, so every replica reads one form.
    expect(
      checkJobSpec({
        ...normalizeDag({ name: 'j', tasks: { a: { run: 'x' } } }),
        tasks: [{ ...plain('a', { kind: 'run', command: 'x' }), trigger: 'all_success' }],
      }),
    ).toMatchObject({
      ok: false,
      error: expect.stringContaining('tasks[0].trigger: must be absent or one of all_done'),
    });
  });

  it('run and handler: exactly one', () => {
    expect(
      rawProblems({ name: 'j', tasks: { both: { run: 'x', handler: 'noop' }, none: { deps: [] }, args: { run: 'x', args: { a: 1 } } } }),
    ).toEqual([
      "tasks.both: task 'both' has both run and handler: it runs either a shell command (run) or a registered handler (handler)",
      "tasks.none: task 'none' needs run (a shell command) or handler (a function registered in the node, like noop)",
      "tasks.args.args: task 'args': args are only for handler tasks (a run task gets its input through env)",
    ]);
    expect(rawProblems({ name: 'j', tasks: { a: { run: '' }, b: { handler: 'bad name' }, c: { handler: 'sleep' } } })).toEqual([
      'tasks.a.run: the command must be a non-empty string, got ""',
      "tasks.b.handler: must be a handler name (1 to 128 letters, digits, '_', '.', ':' or '-'), like noop, got \"bad name\"",
      "tasks.c.args: handler 'sleep' takes { ms: N } with N a whole number of milliseconds >= 0, got null",
    ]);
  });

  it('reserved MESHRUN_ environment names and malformed ones', () => {
    const p = yamlProblems(
      lines('name: j', 'tasks:', '  a:', '    run: x', '    env: { MESHRUN_TASK: me, OK: 1, 1BAD: x, NESTED: { a: 1 } }'),
    );
    expect(p).toEqual([
      "dag.yaml:5:26: tasks.a.env.MESHRUN_TASK: environment variable 'MESHRUN_TASK' is reserved: meshrun sets MESHRUN_* itself",
      "dag.yaml:5:43: tasks.a.env[\"1BAD\"]: environment variable name '1BAD' must be letters, digits and '_', not starting with a digit",
      'dag.yaml:5:46: tasks.a.env.NESTED: must be a string, number or boolean, got a mapping',
    ]);
    // checkJobSpec refuses them too, so a hand-made submit cannot set them.
    const spec = normalizeDag({ name: 'j', tasks: { a: { run: 'x' } } });
    const r = checkJobSpec({ ...spec, tasks: [{ ...spec.tasks[0], env: { MESHRUN_FENCE: '1' } }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("environment variable 'MESHRUN_FENCE' is reserved");
  });

  it('an env name longer than the codec carries is refused here, not at submit', () => {
    const long = `K${'_'.repeat(DAG_LIMITS.maxEnvKeyBytes)}`;
    const p = rawProblems({ name: 'j', tasks: { a: { run: 'x', env: { [long]: 'v' } } } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^tasks\.a\.env\.K_+: environment variable name 'K_+\.\.\.' is 257 characters \(at most 256\)$/);
  });

  it('bad names, numbers and strings', () => {
    expect(
      rawProblems({
        name: '',
        tasks: { 'a b': { run: 'x' }, ok: { run: 'x', retries: -1, priority: 1.5, slots: 0, shards: 0, cwd: 7 } },
      }),
    ).toEqual([
      'name: must be a non-empty string, got ""',
      "tasks[\"a b\"]: task name 'a b' must be 1 to 128 letters, digits, '_', '.' or '-'",
      'tasks.ok.shards: must be an integer from 1 to 1,000,000, got 0',
      'tasks.ok.priority: must be an integer from -1,000,000 to 1,000,000, got 1.5',
      'tasks.ok.retries: must be an integer from 0 to 100, got -1',
      'tasks.ok.slots: must be an integer from 1 to 1,024, got 0',
      'tasks.ok.cwd: cwd must be a non-empty string, got 7',
    ]);
  });

  it('a missing or empty job', () => {
    expect(rawProblems({ tasks: { a: { run: 'x' } } })).toEqual(['name: missing: every job needs a name, like name: nightly-etl']);
    expect(rawProblems({ name: 'j' })).toEqual(['tasks: missing: a job needs at least one task, like tasks: { hello: { run: echo hi } }']);
    expect(rawProblems({ name: 'j', tasks: {} })).toEqual(['tasks: a job needs at least one task']);
    expect(rawProblems({ name: 'j', tasks: ['a'] })).toEqual(['tasks: must be a mapping of task names to tasks, got a list']);
    expect(rawProblems(null)).toEqual(['the DAG is empty: expected a mapping with name and tasks']);
    expect(problemsOf(() => parseDagText('  \n', 'dag.yaml'))).toEqual([
      'dag.yaml: the file is empty: expected a mapping with name and tasks',
    ]);
    expect(yamlProblems('- a\n- b\n')).toEqual(['dag.yaml:1:1: the DAG must be a mapping with name and tasks, got a list']);
  });

  it('malformed YAML, with line and column', () => {
    const p = yamlProblems(lines('name: j', 'tasks:', '  a: { run: x', '  b: { run: y }'));
    expect(p.length).toBeGreaterThan(0);
    for (const line of p) expect(line).toMatch(/^dag\.yaml:\d+:\d+: \S/);
    expect(yamlProblems(lines('name: j', 'tasks:', '\ta: { run: x }'))).toEqual(['dag.yaml:3:1: Tabs are not allowed as indentation']);
  });

  it('malformed JSON, with line and column', () => {
    const p = problemsOf(() => parseDagText('{\n  "name": "j",\n  "tasks": { "a": { "run": "x" }\n', 'dag.json'));
    expect(p.length).toBeGreaterThan(0);
    for (const line of p) expect(line).toMatch(/^dag\.json:4:1: \S/);
  });

  it('problems found in the JSON fast path still get their line', () => {
    const json = '{\n  "name": "j",\n  "tasks": {\n    "a": { "run": "x", "deps": ["missing"] }\n  }\n}';
    expect(problemsOf(() => parseDagText(json, 'dag.json'))).toEqual([
      "dag.json:4:33: tasks.a.deps[0]: task 'a' depends on unknown task 'missing'",
    ]);
  });

  it('YAML alias bombs and multiple documents are refused', () => {
    const bomb = lines(
      'name: j',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'tasks: { a: { run: x } }',
    );
    expect(yamlProblems(bomb)[0]).toMatch(/^dag\.yaml: .*alias/i);
    expect(yamlProblems(lines('name: j', 'tasks: { a: { run: x } }', '---', 'name: k'))[0]).toMatch(/^dag\.yaml:3:1: .*multiple documents/);
  });
});

describe('size limits', () => {
  it('too many tasks in one job', () => {
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i <= DAG_LIMITS.maxSpecs; i++) tasks[`t${i}`] = { handler: 'noop' };
    expect(rawProblems({ name: 'j', tasks })).toEqual(['tasks: 50,001 tasks in one job (at most 50,000)']);
  });

  it('too many tasks once shards are expanded', () => {
    expect(rawProblems({ name: 'j', tasks: { a: { run: 'x', shards: 1_000_000 }, b: { run: 'x', shards: 5 } } })).toEqual([
      'tasks: 1,000,005 tasks once shards are expanded (at most 1,000,000 per job)',
    ]);
    expect(taskCount(normalizeDag({ name: 'j', tasks: { a: { run: 'x', shards: 1_000_000 } } }))).toBe(1_000_000);
    expect(rawProblems({ name: 'j', tasks: { a: { run: 'x', shards: 1_000_001 } } })).toEqual([
      'tasks.a.shards: must be an integer from 1 to 1,000,000, got 1000001',
    ]);
  });

  it('too many bytes: in the file, a command, an env value, handler args, the job name', () => {
    const big = `name: j\ntasks: { a: { run: x } }\n# ${'x'.repeat(DAG_LIMITS.maxFileBytes)}\n`;
    expect(problemsOf(() => parseDagText(big, 'big.yaml'))).toEqual([
      'big.yaml: the file is 8,388,644 bytes (at most 8,388,608); use shards for many similar tasks, or split the job',
    ]);
    const p = rawProblems({
      name: 'é'.repeat(129),
      tasks: {
        a: { run: 'x'.repeat(DAG_LIMITS.maxRunBytes + 1) },
        b: { run: 'x', env: { V: 'é'.repeat(DAG_LIMITS.maxEnvValueBytes / 2 + 1) } },
        c: { handler: 'h', args: { s: 'x'.repeat(DAG_LIMITS.maxArgsBytes) } },
      },
    });
    expect(p).toEqual([
      'name: is 258 bytes (at most 256)',
      'tasks.a.run: the command is 65,537 bytes (at most 65,536)',
      'tasks.b.env.V: value is 32,770 bytes (at most 32,768)',
      'tasks.c.args: 65,544 bytes as JSON (at most 65,536)',
    ]);
  });

  it('keeps the first 50 problems and counts the rest', () => {
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i < 80; i++) tasks[`t${i}`] = { run: 'x', timeout: 5 };
    const p = rawProblems({ name: 'j', tasks });
    expect(p).toHaveLength(51);
    expect(p[0]).toBe('tasks.t0.timeout: 5 has no unit: write 5s, 5ms, 5m or 5h');
    expect(p[50]).toBe('... and 30 more problems');
  });

  it('a 10,000-deep chain is checked without recursion, and a cycle through all of it is shown shortened', () => {
    const n = 10_000;
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) tasks[`t${i}`] = { handler: 'noop', deps: [`t${(i + 1) % n}`] };
    const p = rawProblems({ name: 'j', tasks });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(
      /^tasks\.t0\.deps\[0\]: cycle: t0 -> t1 -> .* -> \.\.\. \(9,971 more\) \.\.\. -> .* -> t9999 -> t0 \(each task depends on the next\)$/,
    );
    delete (tasks['t9999'] as { deps?: unknown }).deps;
    expect(normalizeDag({ name: 'j', tasks }).tasks).toHaveLength(n);
  });
});

describe('collecting all problems', () => {
  it('reports every problem of a file at once, each with its place', () => {
    const p = yamlProblems(
      lines(
        'name: j',
        'colour: blue',
        'tasks:',
        '  a: { run: x, deps: [bb], dep: [x], backoff: 5, timeout: 1y }',
        '  b: { run: x, handler: noop, env: { MESHRUN_X: 1 } }',
        '  c: { run: x, deps: [d] }',
        '  d: { run: x, deps: [c] }',
        '  b: { run: y }',
      ),
    );
    expect(p).toEqual([
      "dag.yaml:8:3: tasks.b: duplicate key 'b' here: each key may appear once in a mapping",
      "dag.yaml:2:9: colour: unknown field 'colour'; expected one of: name, defaults, retention, timeout, concurrency, tasks",
      'dag.yaml:4:47: tasks.a.backoff: 5 has no unit: write 5s, 5ms, 5m or 5h',
      "dag.yaml:4:59: tasks.a.timeout: invalid duration '1y': expected a number and a unit (ms, s, m, h, d or w), like 250ms, 2s, 1.5s, 10m, 1h, 1h30m, 30d or 2w",
      "dag.yaml:4:28: tasks.a.dep: unknown field 'dep' (did you mean 'deps'?); expected one of: run, handler, args, deps, shards, priority, retries, backoff, timeout, slots, env, cwd, trigger, on, pool",
      "dag.yaml:4:23: tasks.a.deps[0]: task 'a' depends on unknown task 'bb' (did you mean 'b'?)",
      'dag.yaml:6:23: tasks.c.deps[0]: cycle: c -> d -> c (each task depends on the next)',
    ]);
  });

  it('checkJobSpec lists all problems of a normalised spec too', () => {
    const r = checkJobSpec({
      name: 'j',
      retentionMs: -1,
      tasks: [
        { ...plain('a', { kind: 'run', command: 'x' }), retries: 101, deps: ['zz'] },
        { ...plain('b', { kind: 'handler', name: 'sleep', args: { ms: -1 } }), timeoutMs: 0 },
      ],
    });
    expect(r).toEqual({
      ok: false,
      error:
        'invalid job spec: retentionMs: must be an integer from 0 to 31,536,000,000, got -1; ' +
        'tasks[0].retries: must be an integer from 0 to 100, got 101; ' +
        'tasks[1].exec.args: handler \'sleep\' takes { ms: N } with N a whole number of milliseconds >= 0, got {"ms":-1}; ' +
        'tasks[1].timeoutMs: must be an integer from 1 to 2,592,000,000, got 0; ' +
        "tasks[0].deps[0]: task 'a' depends on unknown task 'zz'",
    });
    expect(checkJobSpec('nope')).toEqual({ ok: false, error: 'invalid job spec: expected a job spec object, got "nope"' });
  });

  it('checkJobSpec returns a clean copy without unknown fields', () => {
    const spec = normalizeDag({ name: 'j', tasks: { a: { run: 'x' } } });
    const r = checkJobSpec({ ...spec, extra: 1, tasks: [{ ...spec.tasks[0], extra: 2 }] });
    expect(r).toEqual({ ok: true, spec });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-'.split('');
const nameArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 12 }) },
  // Names that YAML or JavaScript objects treat specially.
  {
    weight: 1,
    arbitrary: fc.constantFrom('1', '10', '007', 'true', 'null', '1e3', '0x1F', '.inf', '-', '.', '__proto__', 'constructor', 'toString'),
  },
);
const textArb = (min: number) =>
  fc
    .oneof(fc.string({ minLength: min, maxLength: 30 }), fc.string({ minLength: min, maxLength: 12, unit: 'grapheme' }))
    .filter((s) => !s.includes('\0'));
const ENV_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz0123456789'.split('');
const envKeyArb = fc
  .tuple(fc.constantFrom(...ENV_CHARS.slice(0, 53)), fc.string({ unit: fc.constantFrom(...ENV_CHARS), maxLength: 10 }))
  .map(([a, b]) => a + b)
  .filter((k) => !k.startsWith('MESHRUN_'));
const jsonArb: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as Json);
const msArb = (min: number, max: number) => fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));

interface Shape {
  names: string[];
  /** deps[i]: indexes of specs that spec i depends on, all in `order` before it (so acyclic). */
  deps: number[][];
  /** File position of each spec (a permutation), so deps may also name later specs. */
  order: number[];
}

const shapeArb: fc.Arbitrary<Shape> = fc
  .uniqueArray(nameArb, { minLength: 1, maxLength: 20 })
  .chain((names) =>
    fc.record({
      names: fc.constant(names),
      deps: fc.tuple(...names.map((_, i) => fc.uniqueArray(fc.nat(Math.max(0, i - 1)), { maxLength: Math.min(i, 4) }))),
      order: fc.shuffledSubarray(
        names.map((_, i) => i),
        { minLength: names.length, maxLength: names.length },
      ),
    }),
  )
  .map(({ names, deps, order }) => ({ names, deps: deps.map((d) => [...d]), order }));

type RawTask = Record<string, unknown>;
interface Drawn {
  raw: { name: string; defaults?: Record<string, unknown>; retention?: string; tasks: Record<string, RawTask> };
  expected: JobSpec;
}

const fieldsArb = fc.record(
  {
    exec: fc.oneof(
      textArb(1).map((command) => ({ kind: 'run' as const, command })),
      fc.constant({ kind: 'handler' as const, name: 'noop', args: null }),
      fc.nat(100_000).map((ms) => ({ kind: 'handler' as const, name: 'sleep', args: { ms } })),
      fc
        .tuple(fc.constantFrom('custom', 'a.b:c-d_e'), fc.option(jsonArb, { nil: null }))
        .map(([name, args]) => ({ kind: 'handler' as const, name, args })),
    ),
    retries: fc.integer({ min: 0, max: 100 }),
    backoffMs: msArb(0, 300_000),
    timeoutMs: msArb(1, 30 * 24 * 3_600_000),
    priority: msArb(-1_000_000, 1_000_000),
    slots: msArb(1, 1024),
    env: fc.dictionary(envKeyArb, textArb(0), { maxKeys: 3 }),
    cwd: textArb(1),
    shards: msArb(1, 1000),
    trigger: fc.constantFrom(...TRIGGER_RULES),
  },
  { requiredKeys: ['exec'] },
);
const defaultsArb = fc.record(
  {
    retries: fc.integer({ min: 0, max: 100 }),
    backoffMs: msArb(0, 300_000),
    timeoutMs: msArb(1, 30 * 24 * 3_600_000),
    priority: msArb(-1_000_000, 1_000_000),
    slots: msArb(1, 1024),
    trigger: fc.constantFrom(...TRIGGER_RULES),
  },
  { requiredKeys: [] },
);

/** A random acyclic DAG file (as a value) and the JobSpec it must normalise to. */
const dagArb: fc.Arbitrary<Drawn> = shapeArb.chain((shape) =>
  fc
    .record({
      name: textArb(1).filter((s) => s.trim() !== '' && !/\p{Cc}/u.test(s)),
      defaults: fc.option(defaultsArb, { nil: undefined }),
      retentionMs: fc.option(msArb(0, 365 * 24 * 3_600_000), { nil: undefined }),
      fields: fc.tuple(...shape.names.map(() => fieldsArb)),
    })
    .map(({ name, defaults, retentionMs, fields }): Drawn => {
      const d = defaults ?? {};
      const tasks: Record<string, RawTask> = {};
      const specs: TaskSpec[] = [];
      // A spec depends on specs drawn before it; `order` puts them anywhere in the file.
      for (const i of shape.order) {
        const f = fields[i] as (typeof fields)[number];
        const deps = at(shape.deps, i, 'deps per name').map((j) => at(shape.names, j, 'a name'));
        const t: RawTask = f.exec.kind === 'run' ? { run: f.exec.command } : { handler: f.exec.name };
        if (f.exec.kind === 'handler' && f.exec.args !== null) t['args'] = f.exec.args;
        if (deps.length > 0 || i % 3 === 0) t['deps'] = deps;
        if (f.retries !== undefined) t['retries'] = f.retries;
        if (f.backoffMs !== undefined) t['backoff'] = formatDuration(f.backoffMs);
        if (f.timeoutMs !== undefined) t['timeout'] = formatDuration(f.timeoutMs);
        if (f.priority !== undefined) t['priority'] = f.priority;
        if (f.slots !== undefined) t['slots'] = f.slots;
        if (f.env !== undefined) t['env'] = f.env;
        if (f.cwd !== undefined) t['cwd'] = f.cwd;
        if (f.shards !== undefined) t['shards'] = f.shards;
        if (f.trigger !== undefined) t['trigger'] = f.trigger;
        const trigger = f.trigger ?? d.trigger ?? 'all_success';
        const taskName_ = shape.names[i] as string;
        Object.defineProperty(tasks, taskName_, { value: t, enumerable: true, writable: true, configurable: true });
        specs.push({
          name: taskName_,
          exec: f.exec,
          deps,
          retries: f.retries ?? d.retries ?? 0,
          backoffMs: f.backoffMs ?? d.backoffMs ?? 1000,
          timeoutMs: f.timeoutMs ?? d.timeoutMs ?? 3_600_000,
          priority: f.priority ?? d.priority ?? 0,
          slots: f.slots ?? d.slots ?? 1,
          env: f.env ?? {},
          cwd: f.cwd ?? null,
          shards: f.shards ?? null,
          ...(trigger === 'all_success' ? {} : { trigger }),
        });
      }
      const raw: Drawn['raw'] = { name, tasks };
      if (defaults !== undefined) {
        const block: Record<string, unknown> = {};
        if (d.retries !== undefined) block['retries'] = d.retries;
        if (d.backoffMs !== undefined) block['backoff'] = formatDuration(d.backoffMs);
        if (d.timeoutMs !== undefined) block['timeout'] = formatDuration(d.timeoutMs);
        if (d.priority !== undefined) block['priority'] = d.priority;
        if (d.slots !== undefined) block['slots'] = d.slots;
        if (d.trigger !== undefined) block['trigger'] = d.trigger;
        raw.defaults = block;
      }
      if (retentionMs !== undefined) raw.retention = formatDuration(retentionMs);
      // A plain object lists integer-like keys first; the file order is what the YAML says.
      const fileOrder = Object.keys(tasks);
      const byName = new Map(specs.map((s) => [s.name, s]));
      return {
        raw,
        expected: { name, retentionMs: retentionMs ?? DEFAULT_RETENTION_MS, tasks: fileOrder.map((k) => byName.get(k) as TaskSpec) },
      };
    }),
);

/** A JobSpec back to the DAG file form, every field spelt out. */
function specToRaw(spec: JobSpec): Drawn['raw'] {
  const tasks: Record<string, RawTask> = {};
  for (const t of spec.tasks) {
    const exec: RawTask =
      t.exec.kind === 'run' ? { run: t.exec.command } : { handler: t.exec.name, ...(t.exec.args === null ? {} : { args: t.exec.args }) };
    const entry: RawTask = {
      ...exec,
      deps: [...t.deps],
      retries: t.retries,
      backoff: formatDuration(t.backoffMs),
      timeout: formatDuration(t.timeoutMs),
      priority: t.priority,
      slots: t.slots,
      env: { ...t.env },
      ...(t.cwd === null ? {} : { cwd: t.cwd }),
      ...(t.shards === null ? {} : { shards: t.shards }),
      trigger: t.trigger ?? 'all_success',
    };
    Object.defineProperty(tasks, t.name, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return { name: spec.name, retention: formatDuration(spec.retentionMs), tasks };
}

describe('properties', () => {
  it('random acyclic DAGs are accepted from a value, JSON and YAML, and their spec round-trips', () => {
    fc.assert(
      fc.property(dagArb, ({ raw, expected }) => {
        const spec = normalizeDag(raw);
        expect(spec).toEqual(expected);
        // The expected order is the object's own key order, which JSON and YAML text keep.
        expect(parseDagText(JSON.stringify(raw), 'dag.json')).toEqual(expected);
        expect(parseDagText(toYaml(raw), 'dag.yaml')).toEqual(expected);
        // Back to a file and in again; through the state machine's re-check; through the codec.
        expect(normalizeDag(specToRaw(spec))).toEqual(spec);
        expect(parseDagText(toYaml(specToRaw(spec)), 'again.yaml')).toEqual(spec);
        expect(checkJobSpec(spec)).toEqual({ ok: true, spec });
        const decoded = decodeCommand(encodeCommand({ type: 'submit', id: 'job-1', key: null, spec }));
        expect(decoded).toEqual({ ok: true, value: { type: 'submit', id: 'job-1', key: null, spec } });
        if (decoded.ok && decoded.value.type === 'submit') expect(checkJobSpec(decoded.value.spec)).toEqual({ ok: true, spec });
      }),
      { numRuns: 300 },
    );
  });

  it('a back edge is always reported as a cycle whose path is a real cycle through it', () => {
    const withBackEdge = dagArb
      .filter(({ expected }) => expected.tasks.some((t) => t.deps.length > 0))
      .chain((drawn) => fc.tuple(fc.constant(drawn), fc.nat(), fc.array(fc.nat(), { minLength: 20, maxLength: 20 })));
    fc.assert(
      fc.property(withBackEdge, ([{ raw, expected }, pick, walk]) => {
        const deps = new Map(expected.tasks.map((t) => [t.name, [...t.deps]]));
        // From a task with deps, walk down its deps to some task it transitively depends on...
        const starts = expected.tasks.filter((t) => t.deps.length > 0);
        const from = (starts[pick % starts.length] as TaskSpec).name;
        let to = from;
        for (let k = 0; k < walk.length; k++) {
          const next = deps.get(to) as string[];
          const step = at(walk, k, 'a walk step');
          if (next.length === 0 || (k > 0 && step % 4 === 0)) break;
          to = at(next, step % next.length, 'a next name');
        }
        // ...and make that one depend back on the start.
        (deps.get(to) as string[]).push(from);
        const isEdge = (a: string, b: string) => (deps.get(a) ?? []).includes(b);
        const checkCycles = (messages: readonly string[]) => {
          const cycles = messages.filter((m) => m.includes('cycle: '));
          expect(cycles.length).toBeGreaterThan(0);
          expect(cycles).toEqual(messages);
          for (const m of cycles) {
            const path = (/cycle: (.*) \(each task depends on the next\)$/.exec(m)?.[1] ?? '').split(' -> ');
            expect(path.length).toBeGreaterThanOrEqual(3);
            expect(path[0]).toBe(path[path.length - 1]);
            expect(new Set(path.slice(1)).size).toBe(path.length - 1);
            for (let k = 0; k + 1 < path.length; k++) expect(isEdge(path[k] as string, path[k + 1] as string)).toBe(true);
            // The DAG had no cycle, so every cycle goes through the new edge.
            expect(path.some((n, k) => n === to && path[k + 1] === from)).toBe(true);
          }
        };
        const rawTasks = raw.tasks;
        const t = rawTasks[to] as RawTask;
        const changed = { ...raw, tasks: { ...rawTasks } };
        Object.defineProperty(changed.tasks, to, {
          value: { ...t, deps: deps.get(to) },
          enumerable: true,
          writable: true,
          configurable: true,
        });
        checkCycles(rawProblems(changed));
        checkCycles(problemsOf(() => parseDagText(toYaml(changed), 'dag.yaml')).map((p) => p.replace(/^dag\.yaml:\d+:\d+: /, '')));
        const spec = { ...expected, tasks: expected.tasks.map((s) => ({ ...s, deps: deps.get(s.name) as string[] })) };
        const r = checkJobSpec(spec);
        expect(r.ok).toBe(false);
        if (!r.ok) checkCycles(r.error.replace(/^invalid job spec: /, '').split('; '));
      }),
      { numRuns: 300 },
    );
  });
});
