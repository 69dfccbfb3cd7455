// The files in examples/ are what they claim to be: each examples/*.yaml a valid DAG file (what
// `meshrun submit` takes), each examples/scenarios/*.yaml a scenario (what `meshrun sim` takes).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readScenarioFile } from '../../sim/scenario/scenario-file.js';
import { parseDagText } from '../../src/dag/parse.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const yamls = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));

describe('examples', () => {
  it.each(yamls(EXAMPLES))('%s is a valid DAG file', (file) => {
    expect(() => parseDagText(readFileSync(file, 'utf8'), file)).not.toThrow();
  });

  it.each(yamls(join(EXAMPLES, 'scenarios')))('%s is a scenario whose DAG files read', (file) => {
    expect(readScenarioFile(file).dags.length).toBeGreaterThan(0);
  });
});
