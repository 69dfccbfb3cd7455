// The files in examples/ are what they claim to be: each examples/*.yaml a valid DAG file (what
// `meshrun submit` takes), each examples/scenarios/*.yaml a scenario (what `meshrun sim` takes).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readScenarioFile } from '../../sim/scenario/scenario-file.js';
import { parseDagText } from '../../src/dag/parse.js';
import { parse as parseYaml } from 'yaml';
import { parseScheduleText } from '../../src/schedule/file.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const yamls = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));

describe('examples', () => {
  it.each(yamls(EXAMPLES))('%s is a valid DAG file', (file) => {
    expect(() => parseDagText(readFileSync(file, 'utf8'), file)).not.toThrow();
  });

  it.each(yamls(join(EXAMPLES, 'scenarios')))('%s is a scenario whose DAG and schedule files read', (file) => {
    const s = readScenarioFile(file);
    expect(s.dags.length + s.schedules.length).toBeGreaterThan(0);
  });

  // examples/schedules/ holds schedule files and the DAG files they name (a DAG file has no cadence).
  it.each(yamls(join(EXAMPLES, 'schedules')))('%s is a valid schedule file, or a DAG file a schedule names', (file) => {
    const text = readFileSync(file, 'utf8');
    const raw = parseYaml(text) as Record<string, unknown>;
    if (raw['cron'] === undefined && raw['every'] === undefined) {
      expect(() => parseDagText(text, file)).not.toThrow();
      return;
    }
    const r = parseScheduleText(text, file, (dag) => {
      const path = join(dirname(file), dag);
      const dagText = readFileSync(path, 'utf8');
      return { raw: parseYaml(dagText) as unknown, spec: parseDagText(dagText, path) };
    });
    expect(r.spec.name).toBe(raw['name']);
  });
});
