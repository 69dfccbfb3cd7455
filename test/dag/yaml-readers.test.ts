// parseDagText reads a plain YAML file with a fast reader (js-yaml, core schema) and everything
// else with the document reader (yaml, with places for messages). The two must agree on every
// file the fast one takes: the same spec, or both refusing it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DagError, normalizeDag, parseDagText, readDagText } from '../../src/dag/parse.js';
import type { JobSpec } from '../../src/scheduler/types.js';

/** Plain scalars whose reading differs between YAML versions or libraries, and a few ordinary ones. */
const TRICKY_SCALARS = [
  '1_000',
  '0x1F',
  '0o17',
  '017',
  '+12',
  '.inf',
  '-.Inf',
  '.NaN',
  '~',
  'Null',
  '1e3',
  '1.0',
  '-0',
  '2024-01-01',
  'yes',
  'no',
  'on',
  'off',
  '0b101',
  'True',
  'tRue',
  '1:20',
  '12:30:45',
  '+.5',
  '5.',
  '0x_1',
  '"a\\x41"',
  "'it''s'",
  'plain words',
  '"quoted: colon"',
  '[]',
  '{}',
  '',
  'null',
  'false',
  '42',
];

/** What the document reader makes of the text, as parseDagText's result or its refusal. */
function byDocumentReader(text: string): JobSpec | 'refused' {
  try {
    return normalizeDag(parseYaml(text, { logLevel: 'error' }));
  } catch {
    return 'refused';
  }
}

function byParseDagText(text: string): JobSpec | 'refused' {
  try {
    return parseDagText(text, 'dag.yaml');
  } catch (err) {
    if (err instanceof DagError) return 'refused';
    throw err;
  }
}

describe('the fast YAML reader agrees with the document reader', () => {
  it('on env values, retries and commands written as any plain or quoted scalar', () => {
    const scalar = fc.constantFrom(...TRICKY_SCALARS);
    fc.assert(
      fc.property(scalar, scalar, fc.string({ maxLength: 20 }), (env, retries, run) => {
        const text = [
          'name: j',
          'tasks:',
          '  a:',
          `    run: ${JSON.stringify(run)}`,
          `    retries: ${retries}`,
          `    env: { K: ${env} }`,
          '',
        ].join('\n');
        expect(byParseDagText(text)).toEqual(byDocumentReader(text));
      }),
      { numRuns: 500 },
    );
  });

  it('takes the document reader for tags, anchors and directives, which it reads differently', () => {
    // js-yaml reads `!!float 1` as the number 1, the document reader leaves it a string.
    const tagged = ['name: j', 'tasks:', '  a: { run: x, retries: !!float 1 }', ''].join('\n');
    expect(byParseDagText(tagged)).toBe('refused');
    expect(byDocumentReader(tagged)).toBe('refused');
    const anchored = ['name: j', 'defaults: &d { retries: 2 }', 'tasks:', '  a: { run: x }', ''].join('\n');
    expect(byParseDagText(anchored)).toEqual(byDocumentReader(anchored));
  });

  it('a repeated key goes to the document reader, which names it and its place', () => {
    const text = ['name: j', 'tasks:', '  a: { run: x }', '  a: { run: y }', ''].join('\n');
    expect(() => parseDagText(text, 'dag.yaml')).toThrow(/dag\.yaml:4:3: .*duplicate key 'a'/);
  });
});

describe('readDagText keeps the structure it read, which meshrun submit posts as it is', () => {
  it('is what the document reader makes of the file, through the fast reader and through the document reader', () => {
    const plain = ['name: j', 'tasks:', '  b: { run: "echo 1", env: { K: 1_000 } }', '  a: { handler: noop, deps: [b] }', ''].join('\n');
    // An anchor sends it to the document reader.
    const anchored = ['name: j', 'defaults: &d { retries: 2 }', 'tasks:', '  10: { run: x }', '  a: { run: y, deps: [10] }', ''].join('\n');
    for (const text of [plain, anchored]) {
      const read = readDagText(text, 'dag.yaml');
      expect(read.raw).toEqual(parseYaml(text));
      expect(normalizeDag(read.raw)).toEqual(read.spec);
    }
  });
});
