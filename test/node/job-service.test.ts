// JobService against a real scheduler replica, the log played by a function that applies each
// proposal on the next tick and answers with its effects (as RaftDriver.propose answers with the
// applied entry's outcome): an idempotency key re-used with another DAG is a conflict (409) naming
// the key and the job, found before proposing or from the machine's `existing` answer
// (docs/http-api.md §4).
import { describe, expect, it } from 'vitest';
import { normalizeDag } from '../../src/dag/parse.js';
import { JobService, partBounds, sameJobSpec, submitTimeoutMs } from '../../src/node/job-service.js';
import { ProposalError } from '../../src/node/proposal.js';
import { SchedulerHost } from '../../src/node/scheduler-host.js';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import type { Effect, JobSpec } from '../../src/scheduler/types.js';

function cluster(sliceSpecs?: number): { host: SchedulerHost; jobs: JobService; proposed: Uint8Array[]; before: Uint8Array[] } {
  const host = new SchedulerHost();
  const proposed: Uint8Array[] = [];
  /** Entries another node gets into the log just before the next proposal. */
  const before: Uint8Array[] = [];
  let index = 0;
  const apply = (data: Uint8Array): readonly Effect[] => {
    index++;
    return host.apply(data, { index, term: 1, type: 'normal', time: 1_000 + index, proposer: 'n1', data });
  };
  const jobs = new JobService({
    view: host.view,
    timeoutMs: 2000,
    ...(sliceSpecs === undefined ? {} : { sliceSpecs }),
    propose: (data, _opts, reply) => {
      proposed.push(data);
      const first = before.splice(0);
      setImmediate(() => {
        for (const d of first) apply(d);
        reply.resolve(apply(data));
      });
    },
  });
  return { host, jobs, proposed, before };
}

const dagA = (): JobSpec =>
  normalizeDag({ name: 'nightly', tasks: { extract: { run: 'x', env: { A: '1', B: '2' } }, load: { run: 'y', deps: ['extract'] } } });
// The same DAG: tasks and env keys in another order.
const dagASame = (): JobSpec =>
  normalizeDag({ name: 'nightly', tasks: { load: { deps: ['extract'], run: 'y' }, extract: { env: { B: '2', A: '1' }, run: 'x' } } });
const dagB = (): JobSpec => normalizeDag({ name: 'nightly', tasks: { extract: { run: 'x --full' } } });

describe('JobService: idempotency keys', () => {
  it('answers the same DAG with the existing job, whatever the order of its keys', async () => {
    const { jobs, proposed } = cluster();
    const first = await jobs.submit(dagA(), 'k1');
    expect(first).toMatchObject({ ok: true, existing: false });
    const n = proposed.length;
    const again = await jobs.submit(dagASame(), 'k1');
    expect(again).toEqual({ ok: true, id: first.ok ? first.id : '', existing: true });
    // Answered from this replica's state: the DAG is not proposed again.
    expect(proposed.length).toBe(n);
    expect(sameJobSpec(dagA(), dagASame())).toBe(true);
  });

  it('refuses another DAG under a key this replica knows with a 409 naming the key and the job, without proposing', async () => {
    const { jobs, proposed } = cluster();
    const first = await jobs.submit(dagA(), 'k1');
    if (!first.ok) throw new Error('first submit failed');
    const n = proposed.length;
    const r = await jobs.submit(dagB(), 'k1');
    expect(r).toMatchObject({ ok: false, reason: 'conflict', details: { key: 'k1', job: first.id } });
    if (!r.ok)
      expect(r.error).toBe(
        `the Idempotency-Key "k1" is already used by job ${first.id} ("nightly") with a different DAG: use another key, or send the same DAG to get that job back`,
      );
    expect(proposed.length).toBe(n);
  });

  it('refuses it too when the key was taken in the log after the check (the machine answers existing)', async () => {
    const { jobs, before, host } = cluster();
    // Another node's submit with the same key and another DAG lands just before ours.
    before.push(encodeCommand({ type: 'submit', id: 'other000001', key: 'k2', spec: dagB() }));
    const r = await jobs.submit(dagA(), 'k2');
    expect(r).toMatchObject({ ok: false, reason: 'conflict', details: { key: 'k2', job: 'other000001' } });
    expect(host.view.jobs().map((j) => j.id)).toEqual(['other000001']);
  });

  it('a DAG that differs in a task, a dep, an env value or a handler argument is another DAG', () => {
    const base = { name: 'j', tasks: { a: { handler: 'sleep', args: { ms: 5 } }, b: { run: 'y', deps: ['a'], env: { X: '1' } } } };
    const spec = (over: object): JobSpec => normalizeDag({ ...base, ...over });
    expect(sameJobSpec(spec({}), spec({}))).toBe(true);
    expect(sameJobSpec(spec({}), spec({ tasks: { ...base.tasks, a: { handler: 'sleep', args: { ms: 6 } } } }))).toBe(false);
    expect(sameJobSpec(spec({}), spec({ tasks: { ...base.tasks, b: { run: 'y', deps: [], env: { X: '1' } } } }))).toBe(false);
    expect(sameJobSpec(spec({}), spec({ tasks: { ...base.tasks, b: { run: 'y', deps: ['a'], env: { X: '2' } } } }))).toBe(false);
    expect(sameJobSpec(spec({}), spec({ retention: '1h' }))).toBe(false);
    expect(sameJobSpec(spec({}), spec({ tasks: { ...base.tasks, c: { run: 'z' } } }))).toBe(false);
    expect(sameJobSpec(spec({}), spec({ tasks: { a: base.tasks.a, c: base.tasks.b } }))).toBe(false);
    expect(sameJobSpec(spec({}), spec({ tasks: { ...base.tasks, a: { handler: 'sleep', args: { ms: 5 }, trigger: 'all_done' } } }))).toBe(
      false,
    );
  });

  it('the order of tasks, deps and keys does not matter, repeats in deps do', () => {
    const a = normalizeDag({
      name: 'j',
      tasks: { x: { run: 'x' }, y: { run: 'y' }, z: { run: 'z', deps: ['x', 'y'], env: { A: '1', B: '2' } } },
    });
    const b = normalizeDag({
      tasks: { z: { env: { B: '2', A: '1' }, deps: ['y', 'x'], run: 'z' }, y: { run: 'y' }, x: { run: 'x' } },
      name: 'j',
    });
    expect(sameJobSpec(a, b)).toBe(true);
    const withRepeat: JobSpec = { ...a, tasks: a.tasks.map((t) => (t.name === 'z' ? { ...t, deps: ['x', 'x'] } : t)) };
    const twoNames: JobSpec = { ...a, tasks: a.tasks.map((t) => (t.name === 'z' ? { ...t, deps: ['x', 'y'] } : t)) };
    expect(sameJobSpec(withRepeat, twoNames)).toBe(false);
    // A name repeated in one spec cannot stand in for another task.
    const twice: JobSpec = { ...a, tasks: [a.tasks[0], a.tasks[0], a.tasks[2]].filter((t) => t !== undefined) };
    expect(sameJobSpec(twice, a)).toBe(false);
  });
});

describe('JobService: answers from the applied command', () => {
  const spec = (): JobSpec => normalizeDag({ name: 'j', tasks: { a: { run: 'x' } } });

  it("cancels with the machine's answer, and says what happened when the job ended on its own first", async () => {
    const { jobs, before, host } = cluster();
    const submitted = await jobs.submit(spec(), null);
    if (!submitted.ok) throw new Error('submit failed');
    expect(await jobs.cancel(submitted.id)).toEqual({ ok: true, id: submitted.id, state: 'cancelled' });
    expect(await jobs.cancel(submitted.id)).toMatchObject({ ok: false, reason: 'conflict' });
    expect(await jobs.cancel('nope')).toMatchObject({ ok: false, reason: 'not-found' });
    // Another node's cancel lands just before ours: the machine ignores ours, the state says cancelled.
    const second = await jobs.submit(spec(), null);
    if (!second.ok) throw new Error('submit failed');
    before.push(encodeCommand({ type: 'cancel', job: second.id }));
    expect(await jobs.cancel(second.id)).toEqual({ ok: true, id: second.id, state: 'cancelled' });
    expect(host.view.job(second.id)?.state).toBe('cancelled');
  });

  it('answers unavailable, saying why, when the proposal got no answer; a snapshot that swallowed the submit is read from the state', async () => {
    const host = new SchedulerHost();
    let ending: ProposalError = new ProposalError('timeout');
    const jobs = new JobService({ view: host.view, timeoutMs: 50, propose: (_data, _opts, reply) => reply.reject(ending) });
    expect(await jobs.submit(spec(), 'k')).toMatchObject({
      ok: false,
      reason: 'unavailable',
      error: expect.stringMatching(/not committed within 50 ms.*same Idempotency-Key/),
    });
    ending = new ProposalError('no-leader');
    expect(await jobs.submit(spec(), 'k')).toMatchObject({
      ok: false,
      reason: 'unavailable',
      error: expect.stringMatching(/no leader is known/),
    });
    ending = new ProposalError('lost');
    expect(await jobs.submit(spec(), 'k')).toMatchObject({
      ok: false,
      reason: 'unavailable',
      error: expect.stringMatching(/leader change/),
    });
    // The entry was applied inside a snapshot: the job is in the state under the id drawn for it.
    const applying = new JobService({
      view: host.view,
      propose: (data, _opts, reply) => {
        host.apply(data, { index: 1, term: 1, type: 'normal', time: 1_000, proposer: 'n1', data });
        reply.reject(new ProposalError('unknown'));
      },
    });
    const r = await applying.submit(spec(), null);
    expect(r).toMatchObject({ ok: true, existing: false });
    expect(r.ok && host.view.job(r.id)?.state).toBe('running');
  });
});

describe('submitTimeoutMs', () => {
  it('waits longer for a big submit, not for a small one', () => {
    expect(submitTimeoutMs(10_000, 1)).toBe(10_000);
    expect(submitTimeoutMs(10_000, 999)).toBe(10_000);
    expect(submitTimeoutMs(10_000, 50_000)).toBe(35_000);
  });
});

describe('JobService: a big DAG in parts (docs/architecture.md §3)', () => {
  const layers = (width: number, depth: number): JobSpec => {
    const tasks: Record<string, { run: string; deps?: string[] }> = {};
    for (let l = 0; l < depth; l++)
      for (let i = 0; i < width; i++)
        tasks[`l${l}_${i}`] = { run: 'x', ...(l === 0 ? {} : { deps: [`l${l - 1}_${i}`, `l${l - 1}_${(i + 1) % width}`] }) };
    return normalizeDag({ name: 'big', tasks });
  };
  const kinds = (proposed: readonly Uint8Array[]): string[] =>
    proposed.map((d) => {
      const c = decodeCommand(d);
      return c.ok ? (c.value.type === 'submit-part' ? `part ${c.value.part}/${c.value.parts}` : c.value.type) : 'undecodable';
    });

  it('proposes a DAG above the slice one part at a time, and answers with the job once the last part applied', async () => {
    const { host, jobs, proposed } = cluster(4);
    const answer = await jobs.submit(layers(3, 3), 'big-key');
    expect(kinds(proposed)).toEqual(['part 0/3', 'part 1/3', 'part 2/3']);
    expect(answer).toMatchObject({ ok: true, existing: false });
    const id = answer.ok ? answer.id : '';
    expect(host.view.jobSummary(id)?.counts).toMatchObject({ ready: 3, waiting: 6 });
    // A retry under the key is answered from the state; a DAG of the slice's size is one submit.
    expect(await jobs.submit(layers(3, 3), 'big-key')).toEqual({ ok: true, id, existing: true });
    expect(proposed).toHaveLength(3);
    await jobs.submit(layers(2, 2), null);
    expect(kinds(proposed).slice(3)).toEqual(['submit']);
  });

  it('answers a DAG the machine refuses at its last part as invalid, with its error', async () => {
    const { jobs, proposed } = cluster(2);
    // The API's reader refuses it; a proposer that skipped it finds the machine refusing it alike.
    const line = normalizeDag({ name: 'c', tasks: { a: { run: 'x' }, b: { run: 'x', deps: ['a'] }, c: { run: 'x', deps: ['b'] } } });
    const cyclic = { ...line, tasks: line.tasks.map((t) => (t.name === 'a' ? { ...t, deps: ['c'] } : t)) };
    const answer = await jobs.submit(cyclic, null);
    expect(kinds(proposed)).toEqual(['part 0/2', 'part 1/2']);
    expect(answer).toMatchObject({ ok: false, reason: 'invalid', error: expect.stringMatching(/cycle: a -> c -> b -> a/) });
  });

  it('cuts parts by size as well as by count', () => {
    const tasks = layers(10, 1).tasks;
    expect(partBounds(tasks, 4)).toEqual([0, 4, 8, 10]);
    const huge = tasks.map((t) => ({ ...t, exec: { kind: 'run' as const, command: 'x'.repeat(100_000) } }));
    expect(partBounds(huge, 2000)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('answers unavailable when a part is not applied, proposing no further part', async () => {
    const host = new SchedulerHost();
    const proposed: Uint8Array[] = [];
    const jobs = new JobService({
      view: host.view,
      sliceSpecs: 3,
      defer: (fn) => fn(),
      propose: (data, _opts, reply) => {
        proposed.push(data);
        if (proposed.length === 2) return reply.reject(new ProposalError('lost'));
        reply.resolve(host.apply(data, { index: proposed.length, term: 1, type: 'normal', time: 1_000, proposer: 'n1', data }));
      },
    });
    const answer = await jobs.submit(layers(3, 3), 'k');
    expect(proposed).toHaveLength(2);
    expect(answer).toMatchObject({ ok: false, reason: 'unavailable', error: expect.stringMatching(/same Idempotency-Key/) });
  });
});
