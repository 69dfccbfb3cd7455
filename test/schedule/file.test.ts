// Schedule files (docs/schedules.md §1): every problem at once, naming the field; defaults; the DAG
// through the DAG front end; a dag path resolved by the caller.
import { describe, expect, it } from 'vitest';
import { parseDagText } from '../../src/dag/parse.js';
import { ScheduleError, normalizeSchedule, parseScheduleText } from '../../src/schedule/file.js';

const DAG = { name: 'etl', tasks: { extract: { run: 'echo hi' } } };

function problems(raw: unknown): readonly string[] {
  try {
    normalizeSchedule(raw);
  } catch (err) {
    if (err instanceof ScheduleError) return err.problems;
    throw err;
  }
  throw new Error('expected a ScheduleError');
}

describe('normalizeSchedule', () => {
  it('reads a full schedule, with defaults for what is left out', () => {
    expect(normalizeSchedule({ name: 'n', every: '15m', dag: DAG })).toMatchObject({
      name: 'n',
      cadence: { kind: 'every', everyMs: 900_000 },
      timezone: 'UTC',
      overlap: 'allow',
      catchup: 'latest',
      paused: false,
      params: {},
      dag: { name: 'etl' },
    });
    expect(
      normalizeSchedule({
        name: 'n',
        cron: '30 2 * * *',
        timezone: 'Europe/Berlin',
        overlap: 'forbid',
        catchup: 'all',
        paused: true,
        params: { TARGET: 'prod', N: 3 },
        dag: DAG,
      }),
    ).toMatchObject({
      cadence: { kind: 'cron', expr: '30 2 * * *' },
      timezone: 'Europe/Berlin',
      overlap: 'forbid',
      catchup: 'all',
      paused: true,
      params: { TARGET: 'prod', N: '3' },
    });
  });

  it('reports every problem at once, each naming its field', () => {
    const p = problems({
      name: 'bad name',
      cron: '99 * * * *',
      timezone: 'Nowhere/Land',
      overlap: 'sometimes',
      catchup: 'most',
      params: { MESHRUN_X: '1', ok: {} },
      dag: { name: 'x', tasks: { a: { run: 'x', deps: ['zz'] } } },
      extra: 1,
    });
    const text = p.join('\n');
    expect(text).toMatch(/^name: must be 1 to 128 letters/m);
    expect(text).toMatch(/^timezone: unknown time zone 'Nowhere\/Land'/m);
    expect(text).toMatch(/^overlap: overlap must be one of allow, forbid, replace/m);
    expect(text).toMatch(/^catchup: catchup must be one of none, latest, all/m);
    expect(text).toMatch(/^params\.MESHRUN_X: environment variable 'MESHRUN_X' is reserved/m);
    expect(text).toMatch(/^params\.ok: must be a string, number or boolean/m);
    expect(text).toMatch(/^dag\.tasks\.a\.deps\[0\]: /m);
    expect(text).toMatch(/^extra: unknown field/m);
  });

  it('cron xor every', () => {
    expect(problems({ name: 'n', cron: '* * * * *', every: '1m', dag: DAG })).toEqual([
      'cron, every: give one of them, not both (cron: "30 2 * * *" or every: 15m)',
    ]);
    expect(problems({ name: 'n', dag: DAG })[0]).toMatch(/^cron: missing/);
    expect(problems({ name: 'n', every: '500ms', dag: DAG })[0]).toMatch(/^every: 500ms is out of range/);
    expect(problems({ name: 'n', cron: '* * * * * * *', dag: DAG })[0]).toMatch(/^cron: .*must have 5 fields/);
  });

  it('a dag path is for the CLI; the API takes the DAG itself', () => {
    expect(problems({ name: 'n', every: '1m', dag: 'etl.yaml' })).toEqual([
      "dag: 'etl.yaml' is a path: the CLI reads it (meshrun schedule add); the API takes the DAG itself",
    ]);
  });
});

describe('parseScheduleText', () => {
  it('resolves a dag path through the caller and sends the DAG itself', () => {
    const seen: string[] = [];
    const r = parseScheduleText('name: nightly\ncron: "30 2 * * *"\ndag: etl.yaml\n', 'nightly.yaml', (path) => {
      seen.push(path);
      return { raw: DAG, spec: parseDagText(JSON.stringify(DAG), path) };
    });
    expect(seen).toEqual(['etl.yaml']);
    expect(r.raw['dag']).toEqual(DAG);
    expect(r.spec.dag.tasks[0]?.name).toBe('extract');
  });

  it('prefixes problems with the file', () => {
    expect(() => parseScheduleText('name: n\nevery: 1m\n', 's.yaml', () => ({ raw: DAG, spec: parseDagText('{}', 'x') }))).toThrow(
      /^s\.yaml: dag: missing/,
    );
  });
});
