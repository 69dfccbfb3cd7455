// The flat YAML reader (src/dag/flat-yaml.ts) must read every file it takes exactly as js-yaml's
// core schema does (the reader it stands in front of), and give up on everything else.
import fc from 'fast-check';
import { CORE_SCHEMA, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { chain, distinct, layers, sharded, toYaml } from '../../bench/dags.js';
import { readFlatYaml } from '../../src/dag/flat-yaml.js';
import { parseDagText } from '../../src/dag/parse.js';

const jsYaml = (text: string): unknown => load(text, { schema: CORE_SCHEMA });

/** Scalars a flat file may hold in a value's place, the ones YAML reads as something else among them. */
const SCALARS = [
  'noop',
  'l0_1',
  'a.b-c/d',
  '_x',
  '0',
  '7',
  '10',
  '017',
  '0x1F',
  '0o17',
  '1_000',
  '+12',
  '-3',
  '1e3',
  '1.0',
  '.inf',
  '.NaN',
  '~',
  'null',
  'Null',
  'NULL',
  'true',
  'True',
  'FALSE',
  'tRue',
  'yes',
  'off',
  '2024-01-01',
  '12:30',
  'a:b',
  'plain words',
  '"quoted"',
  '"esc \\" \\\\ \\u00e9 \\n"',
  '"a\\x41"',
  '"a\\e"',
  "'single'",
  '[a, b]',
  '[]',
  '{ ms: 5 }',
  '{}',
  '[a, [b]]',
  '{ a: 1, a: 2 }',
  '__proto__',
  '&anchor x',
  '*alias',
  '!!str 1',
  '',
];

/** A flat file with `value` as task b's handler and as the args of task a. */
const fileWith = (value: string): string =>
  `name: t\ntasks:\n  a: { handler: noop, args: ${value} }\n  b: { handler: ${value}, deps: [a] }\n`;

describe('readFlatYaml', () => {
  it('reads the benchmarks’ machine-written files as js-yaml does', () => {
    const dag = layers(4, 30);
    const files = [toYaml(dag), toYaml(distinct(100)), toYaml(chain(50)), toYaml(sharded(1000))];
    files.push(
      toYaml({
        name: 'mixed',
        tasks: { a: { run: 'echo "hi" && sleep 1', args: { ms: 5 } }, b: { handler: 'noop', deps: ['a'], shards: 3 } },
      }),
    );
    for (const text of files) {
      const fast = readFlatYaml(text);
      expect(fast).toBeDefined();
      expect(fast).toEqual(jsYaml(text));
    }
    expect(Object.keys(readFlatYaml(toYaml(dag))?.['tasks'] ?? {})).toEqual(Object.keys(dag.tasks));
  });

  it.each(SCALARS)('reads %s as js-yaml does, or gives up', (value) => {
    const text = fileWith(value);
    const fast = readFlatYaml(text);
    if (fast !== undefined) expect(fast).toEqual(jsYaml(text));
  });

  it('takes plain words, small integers, JSON strings and flow collections of them', () => {
    for (const v of [
      'noop',
      '_x',
      'a.b-c/d',
      '0',
      '10',
      '"quoted"',
      '"esc \\" \\\\ \\u00e9 \\n"',
      '[a, b]',
      '[]',
      '{ ms: 5 }',
      '{}',
      '[a, [b]]',
    ])
      expect(readFlatYaml(fileWith(v)), v).toBeDefined();
  });

  it.each([
    ['a comment', 'name: t # nightly\ntasks:\n  a: { handler: noop }\n'],
    ['a repeated task', 'name: t\ntasks:\n  a: { handler: noop }\n  a: { handler: sleep }\n'],
    ['a repeated field', 'name: t\ntasks:\n  a: { handler: noop, handler: sleep }\n'],
    ['a repeated top-level key', 'name: t\nname: u\ntasks:\n  a: { handler: noop }\n'],
    ['a block task', 'name: t\ntasks:\n  a:\n    handler: noop\n'],
    ['two indents', 'name: t\ntasks:\n  a: { handler: noop }\n   b: { handler: noop }\n'],
    ['a task line outside tasks', 'name: t\n  a: { handler: noop }\n'],
    ['empty tasks', 'name: t\ntasks:\n'],
    ['a key with no value', 'name:\ntasks:\n  a: { handler: noop }\n'],
    ['CRLF line ends', 'name: t\r\ntasks:\r\n  a: { handler: noop }\r\n'],
    ['a tab', 'name: t\ntasks:\n\ta: { handler: noop }\n'],
    ['a document marker', '---\nname: t\ntasks:\n  a: { handler: noop }\n'],
    ['a __proto__ task', 'name: t\ntasks:\n  __proto__: { handler: noop }\n'],
    ['a trailing comma', 'name: t\ntasks:\n  a: { handler: noop, }\n'],
    ['an unclosed mapping', 'name: t\ntasks:\n  a: { handler: noop\n'],
    ['an unclosed string', 'name: "t\ntasks:\n  a: { handler: noop }\n'],
  ])('gives up on %s', (_what, text) => {
    expect(readFlatYaml(text)).toBeUndefined();
  });

  it('agrees with js-yaml on random flat files whenever it takes one', () => {
    const scalar = fc.oneof(fc.constantFrom(...SCALARS), fc.stringMatching(/^[A-Za-z_0-9."\\ :,[\]{}-]{0,8}$/));
    const field = fc.tuple(fc.constantFrom('handler', 'deps', 'args', 'shards', 'run', 'x'), scalar).map(([k, v]) => `${k}: ${v}`);
    const line = fc
      .tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,3}$/), fc.array(field, { maxLength: 4 }))
      .map(([n, fs]) => `  ${n}: { ${fs.join(', ')} }`);
    fc.assert(
      fc.property(scalar, fc.array(line, { minLength: 1, maxLength: 6 }), (name, lines) => {
        const text = `name: ${name}\ntasks:\n${lines.join('\n')}\n`;
        const fast = readFlatYaml(text);
        if (fast === undefined) return;
        expect(fast).toEqual(jsYaml(text));
      }),
      { numRuns: 2000, seed: 16 },
    );
  });

  it('gives parseDagText the same spec as the other readers', () => {
    const text = toYaml(layers(3, 20));
    expect(readFlatYaml(text)).toBeDefined();
    // The same text behind a comment goes to js-yaml: the spec must not change.
    expect(parseDagText(text, 'flat.yaml')).toEqual(parseDagText(`# a comment\n${text}`, 'commented.yaml'));
  });
});
