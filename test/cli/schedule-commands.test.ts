// meshrun schedule (docs/cli.md §17): the file and its DAG file read here, every problem at once
// (exit 2), and the tables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScheduleInfo } from '../../src/api/types.js';
import { formatSchedule, formatSchedules, readScheduleFile } from '../../src/cli/schedule-commands.js';
import { CliError } from '../../src/cli/errors.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'meshrun-schedule-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const INFO: ScheduleInfo = {
  name: 'nightly',
  cron: '30 2 * * *',
  timezone: 'Europe/Berlin',
  overlap: 'forbid',
  catchup: 'latest',
  paused: false,
  params: { TARGET: 'prod' },
  createdAt: Date.UTC(2026, 0, 1),
  nextAt: Date.UTC(2026, 0, 3, 1, 30),
  runs: [{ tick: Date.UTC(2026, 0, 2, 1, 30), job: '0123456789ab', state: 'succeeded', triggered: false }],
  fired: 1,
  skipped: 0,
  missed: 0,
};

describe('meshrun schedule', () => {
  it('reads the dag: file relative to the schedule file and sends the DAG itself', async () => {
    const d = dir({ 'etl.yaml': 'name: etl\ntasks:\n  a: { run: "true" }\n', 's.yaml': 'name: s\nevery: 1m\ndag: etl.yaml\n' });
    expect(await readScheduleFile(join(d, 's.yaml'))).toEqual({
      name: 's',
      every: '1m',
      dag: { name: 'etl', tasks: { a: { run: 'true' } } },
    });
  });

  it("lists every problem, the DAG file's with its line, and exits 2", async () => {
    const d = dir({ 'etl.yaml': 'name: etl\ntasks:\n  a: { run: "true", deps: [zz] }\n', 's.yaml': 'name: s\nevery: 5\ndag: etl.yaml\n' });
    const err = await readScheduleFile(join(d, 's.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    const text = (err as CliError).message;
    expect(text).toContain('s.yaml: every: 5 has no unit');
    expect(text).toMatch(/s\.yaml: dag: .*etl\.yaml is not a valid DAG:/);
    expect(text).toMatch(/etl\.yaml:3:\d+: tasks\.a\.deps\[0\]/);
  });

  it('prints the list and one schedule', () => {
    expect(formatSchedules([])).toBe('no schedules\n');
    const list = formatSchedules([INFO]);
    expect(list).toContain('cron 30 2 * * * (Europe/Berlin)');
    expect(list).toContain('2026-01-03 01:30:00 utc');
    const one = formatSchedule(INFO);
    expect(one).toContain('ticks     1 fired, 0 skipped, 0 missed');
    expect(one).toContain('params    TARGET=prod');
    expect(one).toMatch(/2026-01-02 01:30:00 utc\s+0123456789ab\s+succeeded/);
  });
});
