// The scheduler's commands as log bytes: every command round-trips; decodeCommand never throws
// (garbage, truncated, oversized input give `{ ok: false }` with a message naming the problem);
// encodeCommand refuses what the decoder would refuse with a CodecError; a 10,000-task job fits
// one Raft entry with room to spare and MAX_COMMAND_BYTES is enforced with a clear error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { at } from '../../src/invariant.js';
import { normalizeDag } from '../../src/dag/parse.js';
import * as pb from '../../src/proto/scheduler.js';
import { CodecError } from '../../src/raft/codec.js';
import {
  CommandTooLargeError,
  MAX_COMMAND_BYTES,
  MAX_HANDLERS,
  MAX_IDEMPOTENCY_KEY_BYTES,
  MAX_JOB_ID_BYTES,
  MAX_NODE_ID_BYTES,
  decodeCommand,
  encodeCommand,
} from '../../src/scheduler/command-codec.js';
import { DAG_LIMITS } from '../../src/scheduler/dag-limits.js';
import {
  OUTPUT_BYTES,
  TAIL_BYTES,
  type Command,
  type FinishItem,
  type JobSpec,
  type Json,
  type TaskSpec,
} from '../../src/scheduler/types.js';

const utf8 = new TextEncoder();
const bytesOf = (s: string): number => utf8.encode(s).length;
const MAX = Number.MAX_SAFE_INTEGER;

/** Strings that round-trip (no lone surrogates), ASCII and beyond, within `maxBytes` of UTF-8. */
function textArb(minLength: number, maxBytes: number, maxLength = 40): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ minLength, maxLength }),
      fc.string({ minLength, maxLength, unit: 'grapheme' }),
      fc.string({ minLength, maxLength: Math.min(maxLength, 20), unit: 'binary' }),
      fc.constantFrom('n1', 'ジョブ-1', '🦀🚀', 'a\u0000b', '\uFEFFbom', 'x'.repeat(maxBytes)),
    )
    .filter((s) => s.length >= minLength && bytesOf(s) <= maxBytes && !/\p{Cs}/u.test(s));
}
const natArb = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 1 << 30 }), fc.maxSafeNat(), fc.constant(MAX));
const nodeArb = textArb(1, MAX_NODE_ID_BYTES);
const jobIdArb = textArb(1, MAX_JOB_ID_BYTES);
const taskArb = fc.oneof(fc.nat(300), fc.nat(DAG_LIMITS.maxTasks - 1), fc.constant(DAG_LIMITS.maxTasks - 1));
const jsonArb: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as Json);

const taskSpecFields = fc.record({
  exec: fc.oneof(
    textArb(0, 200).map((command) => ({ kind: 'run' as const, command })),
    fc
      .tuple(textArb(1, DAG_LIMITS.maxHandlerNameLength), fc.option(jsonArb, { nil: null }))
      .map(([name, args]) => ({ kind: 'handler' as const, name, args })),
  ),
  retries: natArb,
  backoffMs: natArb,
  timeoutMs: natArb,
  priority: fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 })),
  slots: natArb,
  env: fc.dictionary(textArb(0, 40), textArb(0, 100), { maxKeys: 4 }),
  cwd: fc.option(textArb(0, 100), { nil: null }),
  shards: fc.option(natArb, { nil: null }),
});

/** Any JobSpec the codec carries: it checks sizes and references, not ranges or the graph. */
const specArb: fc.Arbitrary<JobSpec> = fc
  .uniqueArray(textArb(0, DAG_LIMITS.maxTaskNameLength, 20), { minLength: 0, maxLength: 12 })
  .chain((names) =>
    fc.record({
      name: textArb(0, DAG_LIMITS.maxJobNameBytes),
      retentionMs: natArb,
      fields: fc.tuple(...names.map(() => taskSpecFields)),
      // Deps may name any other spec, before or after, even twice.
      deps: fc.tuple(
        ...names.map((_, i) =>
          fc.array(
            fc.nat(Math.max(0, names.length - 2)).map((k) => (k >= i ? k + 1 : k)),
            { maxLength: names.length > 1 ? 4 : 0 },
          ),
        ),
      ),
      names: fc.constant(names),
    }),
  )
  .map(({ name, retentionMs, fields, deps, names }) => ({
    name,
    retentionMs,
    tasks: names.map(
      (n, i): TaskSpec => ({ name: n, ...fields[i], deps: at(deps, i, 'deps per name').map((j) => at(names, j, 'a name')) }) as TaskSpec,
    ),
  }));

const finishItemArb: fc.Arbitrary<FinishItem> = fc
  .record({
    job: jobIdArb,
    task: taskArb,
    attempt: natArb,
    outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'timeout' as const),
    exitCode: fc.option(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 137, -(2 ** 31), 2 ** 32 - 1)), {
      nil: null,
    }),
    durationMs: natArb,
    stdout: fc.oneof(fc.constant(''), textArb(0, TAIL_BYTES, 200), fc.constant('é'.repeat(TAIL_BYTES / 2))),
    stderr: fc.oneof(fc.constant(''), textArb(0, TAIL_BYTES, 200)),
  })
  // An output only with a success (the encoder refuses it otherwise): absent, empty, text, or the whole 64 KiB.
  .chain((f) =>
    f.outcome !== 'succeeded'
      ? fc.constant(f)
      : fc.oneof(
          fc.constant(f),
          fc
            .oneof(fc.constant(''), textArb(0, OUTPUT_BYTES, 200), fc.constant('ü'.repeat(OUTPUT_BYTES / 2)))
            .map((output) => ({ ...f, output })),
        ),
  );

/** Refs of one or several jobs: the encoder has a form for each. */
const refsJobs = fc.oneof(fc.constant(['j1']), fc.uniqueArray(jobIdArb, { minLength: 1, maxLength: 5 }));

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    type: fc.constant('submit' as const),
    id: jobIdArb,
    key: fc.option(textArb(0, MAX_IDEMPOTENCY_KEY_BYTES), { nil: null }),
    spec: specArb,
  }),
  fc.record({
    type: fc.constant('claim' as const),
    node: nodeArb,
    boot: natArb,
    tasks: refsJobs.chain((jobs) => fc.array(fc.record({ job: fc.constantFrom(...jobs), task: taskArb }), { maxLength: 20 })),
  }),
  fc.record({
    type: fc.constant('heartbeat' as const),
    node: nodeArb,
    boot: natArb,
    slots: natArb,
    handlers: fc.array(textArb(1, DAG_LIMITS.maxHandlerNameLength), { maxLength: 8 }),
    leaseMs: natArb,
    seq: natArb,
  }),
  fc.record({
    type: fc.constant('finish' as const),
    node: nodeArb,
    boot: natArb,
    results: refsJobs.chain((jobs) =>
      fc.array(
        finishItemArb.chain((f) => fc.constantFrom(...jobs).map((job) => ({ ...f, job }))),
        { maxLength: 6 },
      ),
    ),
    claimNext: fc.boolean(),
  }),
  fc.record({ type: fc.constant('cancel' as const), job: jobIdArb }),
  fc.constant({ type: 'tick' as const }),
);

function decodeOk(bytes: Uint8Array): Command {
  const r = decodeCommand(bytes);
  if (!r.ok) throw new Error(`expected to decode: ${r.error}`);
  return r.value;
}

/** A clean refusal: `{ ok: false }` with the codec's own message, never an exception's text. */
function expectRefused(bytes: Uint8Array, why?: RegExp): string {
  const r = decodeCommand(bytes);
  expect(r.ok).toBe(false);
  const error = r.ok ? '' : r.error;
  expect(error).toMatch(/^command: /);
  if (why) expect(error).toMatch(why);
  return error;
}

describe('round trips', () => {
  it('every command type, over all fields', () => {
    fc.assert(
      fc.property(commandArb, (cmd) => {
        const bytes = encodeCommand(cmd);
        expect(bytes.length).toBeLessThanOrEqual(MAX_COMMAND_BYTES);
        expect(decodeCommand(bytes)).toEqual({ ok: true, value: cmd });
        // One encoding per value: decoding and encoding again gives the same bytes.
        expect(encodeCommand(decodeOk(bytes))).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('a finish that also claims tasks round-trips; no claims and an empty claim list are the same bytes', () => {
    const r: FinishItem = { job: 'j1', task: 3, attempt: 2, outcome: 'succeeded', exitCode: null, durationMs: 0, stdout: '', stderr: '' };
    const withClaims: Command = {
      type: 'finish',
      node: 'n1',
      boot: 7,
      results: [r],
      claimNext: true,
      claims: [
        { job: 'j1', task: 9 },
        { job: 'j2', task: 0 },
      ],
    };
    const bytes = encodeCommand(withClaims);
    expect(decodeCommand(bytes)).toEqual({ ok: true, value: withClaims });
    const plain = encodeCommand({ type: 'finish', node: 'n1', boot: 7, results: [r], claimNext: true });
    expect(encodeCommand({ type: 'finish', node: 'n1', boot: 7, results: [r], claimNext: true, claims: [] })).toEqual(plain);
    // A claim list that is there but empty is not a valid encoding (one encoding per value).
    const pbFinish = {
      node: 'n1',
      boot: 7,
      claimNext: true,
      jobs: ['j1'],
      results: [{ job: 0, task: 3, attempt: 2, outcome: pb.Outcome.SUCCEEDED, durationMs: 0, stdout: '', stderr: '' }],
    };
    expect(pb.Command.encode({ finish: pbFinish })).toEqual(plain);
    expectRefused(
      pb.Command.encode({ finish: { ...pbFinish, claims: { jobs: [], job: [], task: [] } } }),
      /a finish with an empty claim list/,
    );
    // Truncated anywhere: an error, never a throw.
    for (let n = 0; n < bytes.length; n++) expect(decodeCommand(bytes.subarray(0, n)).ok).toBe(false);
  });

  it('empty lists, the largest numbers, one and many jobs', () => {
    const cmds: Command[] = [
      { type: 'claim', node: 'n1', boot: 0, tasks: [] },
      { type: 'finish', node: 'n1', boot: MAX, results: [], claimNext: false },
      { type: 'heartbeat', node: 'n', boot: MAX, slots: 0, handlers: [], leaseMs: MAX, seq: MAX },
      {
        type: 'heartbeat',
        node: 'n'.repeat(MAX_NODE_ID_BYTES),
        boot: 1,
        slots: 4,
        handlers: Array.from({ length: MAX_HANDLERS }, (_, i) => `h${i}`),
        leaseMs: 1,
        seq: 1,
      },
      {
        type: 'claim',
        node: 'n1',
        boot: 1,
        tasks: [
          { job: 'a', task: 0 },
          { job: 'b', task: DAG_LIMITS.maxTasks - 1 },
          { job: 'a', task: 5 },
        ],
      },
      { type: 'submit', id: 'j'.repeat(MAX_JOB_ID_BYTES), key: '', spec: { name: '', retentionMs: 0, tasks: [] } },
      {
        type: 'submit',
        id: 'j',
        key: null,
        spec: normalizeDag({
          name: 'x',
          tasks: {
            a: { handler: 'sleep', args: { ms: 1 } },
            b: { run: 'x', deps: ['a'], env: JSON.parse('{"__proto__":"p"}') as Record<string, string> },
          },
        }),
      },
      { type: 'cancel', job: '🦀' },
      { type: 'tick' },
    ];
    for (const cmd of cmds) expect(decodeCommand(encodeCommand(cmd))).toEqual({ ok: true, value: cmd });
    // Field 6 (tick), an empty message.
    expect(encodeCommand({ type: 'tick' })).toEqual(Uint8Array.of(0x32, 0));
  });

  it('decodes from a Buffer and from a view into a larger buffer', () => {
    const cmd: Command = { type: 'cancel', job: 'job-1' };
    const bytes = encodeCommand(cmd);
    expect(decodeCommand(Buffer.from(bytes))).toEqual({ ok: true, value: cmd });
    const big = new Uint8Array(bytes.length + 10);
    big.set(bytes, 5);
    expect(decodeCommand(big.subarray(5, 5 + bytes.length))).toEqual({ ok: true, value: cmd });
  });

  it('keeps the hot path small: a handler result with no output is about a dozen bytes', () => {
    const node = '12D3KooWBhMbLvQW9Sxzs1vmS3BEXoNbYCZWb8tiwrNHaz2bSZ5m';
    const result = (task: number): FinishItem => ({
      job: 'j-0123456789',
      task,
      attempt: 1,
      outcome: 'succeeded',
      exitCode: null,
      durationMs: 3,
      stdout: '',
      stderr: '',
    });
    const finish = (results: FinishItem[]) => encodeCommand({ type: 'finish', node, boot: 2 ** 40, claimNext: true, results });
    const [none, one, two] = [finish([]), finish([result(123_456)]), finish([result(123_456), result(123_457)])];
    // The first result also brings its job's id into the table (14 bytes); each more, about a dozen.
    expect(one.length - none.length).toBeLessThanOrEqual(14 + 12);
    expect(two.length - one.length).toBeLessThanOrEqual(12);
  });
});

describe('decodeCommand on bad input', () => {
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => x & 7)),
        ),
        (bytes) => {
          const r = decodeCommand(bytes);
          if (!r.ok) expect(r.error).toMatch(/^command: /);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('refuses every truncation of a valid command', () => {
    fc.assert(
      fc.property(commandArb, (cmd) => {
        const bytes = encodeCommand(cmd);
        // Every cut of a short command; about 200 cuts of a long one (the last byte included).
        const step = Math.max(1, Math.floor(bytes.length / 200));
        for (let n = 0; n < bytes.length; n += step) expectRefused(bytes.subarray(0, n));
        expectRefused(bytes.subarray(0, bytes.length - 1));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses trailing bytes', () => {
    const bytes = encodeCommand({ type: 'cancel', job: 'j' });
    expectRefused(Uint8Array.from([...bytes, 0]), /unknown field 0 \(wire type 0\)/);
    expectRefused(Uint8Array.from([...bytes, 0x32, 0]), /2 commands in one/);
  });

  it('never throws on corrupted valid commands; what decodes is well-typed', () => {
    fc.assert(
      fc.property(
        commandArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (cmd, edits) => {
          const bytes = encodeCommand(cmd).slice();
          for (const [at, v] of edits) bytes[at % bytes.length] = v;
          const r = decodeCommand(bytes);
          if (!r.ok) {
            expect(r.error).toMatch(/^command: /);
            return;
          }
          // Whatever decodes has the promised shape.
          const c = r.value;
          expect([
            'submit',
            'claim',
            'heartbeat',
            'finish',
            'cancel',
            'tick',
            'schedule-put',
            'schedule-delete',
            'schedule-pause',
            'schedule-trigger',
            'fire',
          ]).toContain(c.type);
          if (c.type === 'claim' || c.type === 'finish') {
            const refs = c.type === 'claim' ? c.tasks : c.results;
            for (const ref of refs) {
              expect(typeof ref.job).toBe('string');
              expect(ref.job.length).toBeGreaterThan(0);
              expect(Number.isSafeInteger(ref.task) && ref.task >= 0 && ref.task < DAG_LIMITS.maxTasks).toBe(true);
            }
          }
          if (c.type === 'finish') for (const f of c.results) expect(['succeeded', 'failed', 'timeout']).toContain(f.outcome);
          if (c.type === 'submit')
            for (const t of c.spec.tasks) for (const d of t.deps) expect(c.spec.tasks.some((s) => s.name === d)).toBe(true);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses oversized input without reading it', () => {
    const big = new Uint8Array(MAX_COMMAND_BYTES + 1);
    big[0] = 6; // a tick, followed by far too much
    expectRefused(big, /^command: 1,044,481 bytes \(at most 1,044,480\)$/);
  });

  it('refuses what is not bytes', () => {
    expect(decodeCommand('tick' as unknown as Uint8Array)).toEqual({ ok: false, error: 'command: input is not a Uint8Array' });
    expect(decodeCommand(null as unknown as Uint8Array)).toEqual({ ok: false, error: 'command: input is not a Uint8Array' });
  });

  it('names the problem: kinds, counts, strings, numbers, table positions', () => {
    // Bad commands are built with the generated encoder, which checks nothing, or by hand.
    const cmd = (c: pb.Command) => pb.Command.encode(c);
    const task = (t: Partial<pb.TaskSpec>): pb.TaskSpec => ({
      name: 'a',
      run: 'c',
      deps: [],
      depNames: [],
      retries: 0,
      backoffMs: 0,
      timeoutMs: 1,
      priority: 0,
      slots: 1,
      env: [],
      on: [],
      ...t,
    });
    const submit = (...tasks: pb.TaskSpec[]) => cmd({ submit: { id: 'j', spec: { name: 'x', retentionMs: 0, handlers: ['h'], tasks } } });
    const result = (r: Partial<pb.FinishResult>): pb.FinishResult => ({
      job: 0,
      task: 1,
      attempt: 1,
      outcome: pb.Outcome.FAILED,
      durationMs: 1,
      stdout: '',
      stderr: '',
      ...r,
    });
    const finish = (f: Partial<pb.Finish>) =>
      cmd({ finish: { node: 'n', boot: 0, claimNext: false, jobs: ['j'], results: [result({})], ...f } });
    const claim = (tasks: pb.TaskRefs) => cmd({ claim: { node: 'n', boot: 0, tasks } });

    // Kinds: none, two, one this version does not know (field 11).
    expectRefused(new Uint8Array(0), /^command: no command \(or one this version does not know\)$/);
    expectRefused(cmd({ tick: {}, cancel: { job: 'j' } }), /^command: 2 commands in one \(exactly one expected\)$/);
    expectRefused(Uint8Array.of(0x5a, 0), /^command: unknown field 11 \(wire type 2\) before byte 1$/);
    // Schedules: a put without its schedule, a trigger without its job, fire tables.
    expectRefused(cmd({ schedulePut: { request: 'r', at: 0 } }), /^command: a schedule put without a schedule$/);
    expectRefused(
      cmd({ scheduleChange: { request: 'r', name: 'n', kind: pb.ScheduleChangeKind.TRIGGER, at: 0 } }),
      /^command: a job id belongs to a trigger, and a trigger needs one$/,
    );
    expectRefused(cmd({ fire: { schedules: ['a'], schedule: [3], tick: [1] } }), /^command: schedule position 3 is not in the table of 1$/);
    expectRefused(cmd({ fire: { schedules: ['a'], schedule: [0, 0], tick: [1] } }), /^command: 2 schedule positions for 1 ticks$/);
    expectRefused(
      cmd({ fire: { schedules: ['a'.repeat(129)], schedule: [0], tick: [1] } }),
      /^command: schedule name is 129 bytes \(at most 128\)$/,
    );
    // Strings: empty, too long, not UTF-8, longer than the input.
    expectRefused(cmd({ cancel: { job: '' } }), /^command: job id is empty$/);
    expectRefused(cmd({ cancel: { job: 'a'.repeat(129) } }), /^command: job id is 129 bytes \(at most 128\)$/);
    expectRefused(Uint8Array.of(0x2a, 4, 0x0a, 2, 0xc3, 0x28), /^command: invalid UTF-8 in the string at byte 3$/);
    expectRefused(Uint8Array.of(0x2a, 3, 0x0a, 10, 0x61), /^command: truncated at byte 3 reading a string \(10 bytes, 1 left\)$/);
    // Numbers: past 2^53 - 1, named.
    expectRefused(
      Uint8Array.of(0x12, 13, 0x0a, 1, 0x6e, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10),
      /^command: boot 1152921504606847000 is above 9007199254740991$/,
    );
    // Claims: the job table, positions in it, task numbers.
    expectRefused(claim({ jobs: Array.from({ length: 4097 }, (_, i) => `j${i}`), job: [], task: [] }), /^command: too many jobs$/);
    expectRefused(claim({ jobs: ['a', 'b'], job: [5], task: [0] }), /^command: job position 5 is not in the table of 2$/);
    expectRefused(claim({ jobs: ['a'], job: [], task: [DAG_LIMITS.maxTasks] }), /^command: task 1000000 is not below 1000000$/);
    expectRefused(claim({ jobs: [], job: [], task: [0] }), /^command: 1 claim with 0 job ids$/);
    expectRefused(claim({ jobs: ['a'], job: [0], task: [0] }), /^command: 1 job positions for 1 claim and 1 job ids$/);
    expectRefused(claim({ jobs: ['a', 'b'], job: [0], task: [0, 1] }), /^command: 1 job positions for 2 claim and 2 job ids$/);
    expectRefused(claim({ jobs: ['a', ''], job: [0, 1], task: [0, 1] }), /^command: job id is empty$/);
    // Heartbeats: too many handlers, an empty one.
    const hb = { node: 'n', boot: 0, slots: 1, leaseMs: 1, seq: 1, labels: [], ahead: 0 };
    expectRefused(
      cmd({ heartbeat: { ...hb, handlers: Array.from({ length: MAX_HANDLERS + 1 }, () => 'h') } }),
      /^command: too many handlers$/,
    );
    expectRefused(cmd({ heartbeat: { ...hb, handlers: ['h', ''] } }), /^command: handler name is empty$/);
    // Finishes: a bool that is not 0 or 1, an unknown outcome, exit codes past 32 bits, table positions.
    expectRefused(Uint8Array.of(0x22, 5, 0x0a, 1, 0x6e, 0x18, 2), /^command: bool at byte 6 is 2 \(expected 0 or 1\)$/);
    expectRefused(
      Uint8Array.of(0x22, 11, 0x0a, 1, 0x6e, 0x22, 1, 0x6a, 0x2a, 3, 0x10, 1, 0x20, 9),
      /^command: unknown value 9 of enum field 4 at byte 13$/,
    );
    expectRefused(finish({ results: [result({ exitCode: 2 ** 32 })] }), /^command: exit code 4294967296 is not a 32-bit integer$/);
    expectRefused(finish({ results: [result({ exitCode: -(2 ** 31) - 1 })] }), /^command: exit code -2147483649 is not a 32-bit integer$/);
    expectRefused(finish({ results: [result({ job: 3 })] }), /^command: job position 3 is not in the table of 1$/);
    expectRefused(finish({ jobs: [] }), /^command: 1 results with 0 job ids$/);
    expectRefused(
      finish({ results: [result({ stdout: 'x'.repeat(TAIL_BYTES + 1) })] }),
      /^command: stdout tail is 4097 bytes \(at most 4096\)$/,
    );
    // Outputs: past 64 KiB, or carried by an attempt that did not succeed.
    expectRefused(
      finish({ results: [result({ outcome: pb.Outcome.SUCCEEDED, output: 'x'.repeat(OUTPUT_BYTES + 1) })] }),
      /^command: task output is 65537 bytes \(at most 65536\)$/,
    );
    expectRefused(
      finish({ results: [result({ outcome: pb.Outcome.FAILED, output: 'x' })] }),
      /^command: a failed attempt carries an output \(only a successful one hands one on\)$/,
    );
    // Submits: the spec, a task's exec, its table positions, deps, args, env.
    expectRefused(cmd({ submit: { id: 'j' } }), /^command: a submit without a job spec$/);
    expectRefused(submit(task({ handler: 0 })), /^command: task 0 has both a command and a handler$/);
    expectRefused(submit({ ...task({}), run: undefined }), /^command: task 0 has neither a command nor a handler$/);
    expectRefused(submit(task({ run: undefined, handler: 1 })), /^command: handler index 1 of task 0 is not in the table of 1$/);
    expectRefused(submit(task({ args: '1' })), /^command: task 0 has args but runs a command$/);
    expectRefused(submit(task({ run: undefined, handler: 0, args: '{' })), /^command: args of task 0 are not valid JSON$/);
    expectRefused(submit(task({ run: undefined, handler: 0, args: 'null' })), /^command: args of task 0 are null but present$/);
    expectRefused(submit(task({ deps: [1] })), /^command: a dep of task 0 points to spec -1 \(the job has 1\)$/);
    expectRefused(submit(task({ deps: [0] })), /^command: a dep of task 0 points to spec 0 \(the job has 1\)$/);
    expectRefused(submit(task({ deps: Array.from({ length: DAG_LIMITS.maxDepsPerSpec + 1 }, () => 1) })), /^command: too many deps$/);
    expectRefused(
      submit(
        task({
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        }),
      ),
      /^command: env name "A" of task 0 appears twice$/,
    );
    expectRefused(submit(task({ name: 'x'.repeat(129) })), /^command: task name is 129 bytes \(at most 128\)$/);
    expectRefused(submit(task({ priority: -(2 ** 53) })), /^command: priority -9007199254740992 is below -9007199254740991$/);
  });
});

describe('encodeCommand on bad values', () => {
  const tooBig = (s: string) => s.repeat(1000);
  it.each<[string, Command, RegExp]>([
    ['an empty node id', { type: 'claim', node: '', boot: 0, tasks: [] }, /node id is empty/],
    ['a node id over 256 bytes', { type: 'claim', node: 'é'.repeat(129), boot: 0, tasks: [] }, /node id is 258 bytes \(at most 256\)/],
    ['a negative boot', { type: 'claim', node: 'n', boot: -1, tasks: [] }, /boot -1 is not a non-negative safe integer/],
    [
      'a fractional seq',
      { type: 'heartbeat', node: 'n', boot: 0, slots: 1, handlers: [], leaseMs: 1, seq: 1.5 },
      /seq 1.5 is not a non-negative safe integer/,
    ],
    [
      'an unsafe number',
      { type: 'heartbeat', node: 'n', boot: 2 ** 53, slots: 1, handlers: [], leaseMs: 1, seq: 1 },
      /boot 9007199254740992 is not/,
    ],
    [
      'an empty handler name',
      { type: 'heartbeat', node: 'n', boot: 0, slots: 1, handlers: [''], leaseMs: 1, seq: 1 },
      /handler name is empty/,
    ],
    [
      'too many handlers',
      {
        type: 'heartbeat',
        node: 'n',
        boot: 0,
        slots: 1,
        handlers: Array.from({ length: MAX_HANDLERS + 1 }, () => 'h'),
        leaseMs: 1,
        seq: 1,
      },
      /1025 handlers \(at most 1024\)/,
    ],
    [
      'a task number past the limit',
      { type: 'claim', node: 'n', boot: 0, tasks: [{ job: 'j', task: DAG_LIMITS.maxTasks }] },
      /task 1000000 is not a task number below 1000000/,
    ],
    ['an empty job id', { type: 'cancel', job: '' }, /job id is empty/],
    ['a job id over 128 bytes', { type: 'cancel', job: 'j'.repeat(129) }, /job id is 129 bytes \(at most 128\)/],
    [
      'an idempotency key over 256 bytes',
      { type: 'submit', id: 'j', key: 'k'.repeat(257), spec: { name: 'x', retentionMs: 0, tasks: [] } },
      /idempotency key is 257 bytes/,
    ],
    [
      'an exit code past 32 bits',
      {
        type: 'finish',
        node: 'n',
        boot: 0,
        claimNext: false,
        results: [{ job: 'j', task: 0, attempt: 1, outcome: 'failed', exitCode: 2 ** 32, durationMs: 0, stdout: '', stderr: '' }],
      },
      /exit code 4294967296 is not a 32-bit integer/,
    ],
    [
      'an unknown outcome',
      {
        type: 'finish',
        node: 'n',
        boot: 0,
        claimNext: false,
        results: [{ job: 'j', task: 0, attempt: 1, outcome: 'maybe' as 'failed', exitCode: null, durationMs: 0, stdout: '', stderr: '' }],
      },
      /unknown finish outcome maybe/,
    ],
    [
      'a stdout tail over 4 KiB',
      {
        type: 'finish',
        node: 'n',
        boot: 0,
        claimNext: false,
        results: [{ job: 'j', task: 0, attempt: 1, outcome: 'failed', exitCode: null, durationMs: 0, stdout: tooBig('xxxxx'), stderr: '' }],
      },
      /stdout tail is 5000 bytes \(at most 4096\)/,
    ],
    ['an unknown command', { type: 'nope' } as unknown as Command, /unknown command type nope/],
  ])('refuses %s with a CodecError', (_, cmd, why) => {
    expect(() => encodeCommand(cmd)).toThrow(CodecError);
    expect(() => encodeCommand(cmd)).toThrow(why);
  });

  it('refuses job specs the decoder could not read back', () => {
    const t = (over: Partial<TaskSpec>): TaskSpec => ({
      name: 'a',
      exec: { kind: 'run', command: 'x' },
      deps: [],
      retries: 0,
      backoffMs: 0,
      timeoutMs: 1,
      priority: 0,
      slots: 1,
      env: {},
      cwd: null,
      shards: null,
      ...over,
    });
    const submit = (...tasks: TaskSpec[]): Command => ({ type: 'submit', id: 'j', key: null, spec: { name: 'x', retentionMs: 0, tasks } });
    expect(() => encodeCommand(submit(t({}), t({})))).toThrow(/task name 'a' is used twice/);
    expect(() => encodeCommand(submit(t({ deps: ['b'] })))).toThrow(/task 'a' depends on unknown task 'b'/);
    expect(() => encodeCommand(submit(t({ deps: ['a'] })))).toThrow(/task 'a' depends on itself/);
    expect(() => encodeCommand(submit(t({ name: 'x'.repeat(129) })))).toThrow(/task name is 129 bytes/);
    expect(() => encodeCommand(submit(t({ priority: 2 ** 53 })))).toThrow(
      /priority 9007199254740992 of task 'a' is not an integer in range/,
    );
    expect(() => encodeCommand(submit(t({ env: { ['k'.repeat(257)]: 'v' } })))).toThrow(/env name is 257 bytes/);
    expect(() => encodeCommand(submit(t({ exec: { kind: 'handler', name: 'h', args: 1n as unknown as Json } })))).toThrow(
      /args of task 'a' are not JSON/,
    );
    expect(() => encodeCommand(submit(t({ exec: { kind: 'shell' } as unknown as TaskSpec['exec'] })))).toThrow(/unknown exec kind shell/);
  });
});

describe('size', () => {
  function bigJob(shape: 'chain' | 'independent' | 'layers', exec: 'run' | 'handler'): JobSpec {
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) {
      const t: Record<string, unknown> = exec === 'run' ? { run: `./step.sh ${i}` } : { handler: 'noop' };
      if (shape === 'chain' && i > 0) t['deps'] = [`task-${i - 1}`];
      if (shape === 'layers' && i >= 500) t['deps'] = [`task-${i - 500}`, `task-${i - 500 + ((i + 1) % 500 === 0 ? -499 : 1)}`];
      if (i % 10 === 0) t['priority'] = 10;
      tasks[`task-${i}`] = t;
    }
    return normalizeDag({ name: `big-${shape}`, defaults: { retries: 2, backoff: '2s', timeout: '10m' }, tasks });
  }

  it.each([
    ['chain', 'run'],
    ['chain', 'handler'],
    ['independent', 'run'],
    ['layers', 'run'],
  ] as const)('a 10,000-task job (%s, %s) takes under 40 bytes per task spec', (shape, exec) => {
    const spec = bigJob(shape, exec);
    const bytes = encodeCommand({ type: 'submit', id: 'job-000000000001', key: 'deploy-1234', spec });
    expect(bytes.length / spec.tasks.length).toBeLessThan(40);
    expect(decodeCommand(bytes)).toEqual({ ok: true, value: { type: 'submit', id: 'job-000000000001', key: 'deploy-1234', spec } });
  });

  it('a job spec too large for one entry is refused with a clear error', () => {
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) tasks[`t${i}`] = { run: 'x'.repeat(60_000) };
    const spec = normalizeDag({ name: 'huge', tasks });
    let err: unknown;
    try {
      encodeCommand({ type: 'submit', id: 'j', key: null, spec });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommandTooLargeError);
    expect(err).toBeInstanceOf(CodecError);
    const e = err as CommandTooLargeError;
    expect(e.limit).toBe(MAX_COMMAND_BYTES);
    expect(e.bytes).toBeGreaterThan(MAX_COMMAND_BYTES);
    expect(e.message).toMatch(
      /^job 'huge' is too large to submit: its first 18 of 20 tasks already take 1,080,\d{3} bytes and one Raft entry holds at most 1,044,480; use shards for many similar tasks, or split the job$/,
    );
  });

  it('MAX_COMMAND_BYTES is the exact bound, for any command', () => {
    // Field 2 (claim): tag and a 3-byte length; node 'nnn' (5 bytes); the task refs: tag, 3-byte
    // length, job table 'j' (3 bytes), then two bytes per task 0 (its tag and the value).
    const claim = (items: number): Command => ({
      type: 'claim',
      node: 'nnn',
      boot: 0,
      tasks: Array.from({ length: items }, () => ({ job: 'j', task: 0 })),
    });
    const fits = (MAX_COMMAND_BYTES - 16) / 2;
    expect(Number.isInteger(fits)).toBe(true);
    const bytes = encodeCommand(claim(fits));
    expect(bytes.length).toBe(MAX_COMMAND_BYTES);
    const back = decodeOk(bytes);
    expect(back.type === 'claim' && back.tasks.length).toBe(fits);
    expect(() => encodeCommand(claim(fits + 1))).toThrow(CommandTooLargeError);
    expect(() => encodeCommand(claim(fits + 1))).toThrow('claim command is 1,044,482 bytes (at most 1,044,480)');
    const results = Array.from({ length: 300 }, (_, task): FinishItem => ({
      job: 'j',
      task,
      attempt: 1,
      outcome: 'failed',
      exitCode: 1,
      durationMs: 1,
      stdout: 'o'.repeat(TAIL_BYTES),
      stderr: 'e'.repeat(TAIL_BYTES),
    }));
    expect(() => encodeCommand({ type: 'finish', node: 'n', boot: 0, claimNext: false, results })).toThrow(
      /^finish command is 2,4\d\d,\d{3} bytes \(at most 1,044,480\)$/,
    );
  });
});
