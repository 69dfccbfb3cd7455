// Reading a scenario file: what a good one becomes, and a message naming the field for each
// kind of mistake (all of a file's problems at once).
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError, type Scenario } from '../../sim/scenario/scenario-file.js';

const DAGS: Record<string, string> = {
  '/s/etl.yaml': 'name: etl\ntasks:\n  a: { run: ./a.sh }\n  b: { run: ./b.sh, deps: [a], shards: 2 }\n',
  '/s/other.yaml': 'name: other\ntasks:\n  x: { handler: noop }\n',
  '/s/cycle.yaml': 'name: bad\ntasks:\n  a: { run: x, deps: [b] }\n  b: { run: y, deps: [a] }\n',
};
const readDag = (file: string): string => {
  const text = DAGS[file];
  if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return text;
};
const parse = (text: string): Scenario => parseScenario(text, '/s/scenario.yaml', readDag);

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ScenarioError) return [...err.problems];
    throw err;
  }
  throw new Error('the scenario was accepted');
}

describe('scenario files', () => {
  it('reads nodes, voters and learners, slots, skew, DAGs, task behaviour and faults', () => {
    const s = parse(`
name: demo
nodes: 5
voters: 3
slots: { n1: 4 }
skew: { n2: 200ms, n3: -150ms }
dags: [etl.yaml, { file: other.yaml, at: 3s }]
tasks:
  a: { duration: 1s-2s, exit: [1, 0] }
  other/x: { duration: 10ms }
faults:
  - { at: 2s, partition: [[n1, n2]] }
  - { at: 2s, isolate: leader }
  - { at: 3s, oneway: { from: n1, to: n3 } }
  - { at: 4s, flap: [n4, n5], every: 100ms, for: 2s }
  - { at: 5s, kill: [leader, n5] }
  - { at: 6s, restart: all }
  - { at: 6s, pause: n2 }
  - { at: 7s, resume: n2 }
  - { at: 7s, loss: 0.2 }
  - { at: 7s, delay: 20ms }
  - { at: 7s, skew: { n1: -300ms, n4: 100ms } }
  - { at: 8s, heal: true }
`);
    expect(s.nodes).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(s.voters).toEqual(['n1', 'n2', 'n3']);
    expect(s.learners).toEqual(['n4', 'n5']);
    expect([...s.slots]).toEqual([
      ['n1', 4],
      ['n2', 2],
      ['n3', 2],
      ['n4', 2],
      ['n5', 2],
    ]);
    expect([...s.skew]).toEqual([
      ['n2', 200],
      ['n3', -150],
    ]);
    expect(s.dags.map((d) => [d.spec.name, d.at])).toEqual([
      ['etl', 0],
      ['other', 3000],
    ]);
    expect(s.tasks.get('a')).toEqual({ minMs: 1000, maxMs: 2000, exits: [1, 0] });
    expect(s.faults.map((f) => f.fault.kind)).toEqual([
      'partition',
      'isolate',
      'oneway',
      'flap',
      'kill',
      'restart',
      'pause',
      'resume',
      'loss',
      'delay',
      'skew',
      'heal',
    ]);
    expect(s.faults[10]?.fault).toEqual({
      kind: 'skew',
      offsets: new Map([
        ['n1', -300],
        ['n4', 100],
      ]),
    });
    expect(s.faults[3]?.fault).toEqual({ kind: 'flap', a: 'n4', b: 'n5', everyMs: 100, forMs: 2000 });
    expect(s.healAt).toBe(13_000);
  });

  it.each([
    [
      'an unknown node',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, kill: n7 }',
      "faults[0].kill: unknown node 'n7': the nodes are n1, n2, n3, or leader",
    ],
    [
      'a node in a partition twice',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, partition: [[n1, n2], [n2]] }',
      'faults[0].partition[1][0]: n2 is in two groups',
    ],
    [
      'fault times going back',
      'dags: [etl.yaml]\nfaults:\n  - { at: 5s, kill: n1 }\n  - { at: 2s, restart: n1 }',
      'faults[1].at: fault times must not go back: 2s comes after 5s',
    ],
    ['a fault without a time', 'dags: [etl.yaml]\nfaults:\n  - { kill: n1 }', 'faults[0].at: missing'],
    [
      'two actions in one fault',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, kill: n1, pause: n2 }',
      'faults[0]: expected exactly one action',
    ],
    ['an unknown action', 'dags: [etl.yaml]\nfaults:\n  - { at: 1s, explode: n1 }', 'faults[0]: expected exactly one action of partition'],
    ['a DAG file that does not validate', 'dags: [cycle.yaml]', 'dags[0]: DAG file cycle.yaml does not validate: '],
    [
      'a missing DAG file',
      'dags: [nope.yaml]',
      'dags[0]: cannot read DAG file nope.yaml (looked for /s/nope.yaml, next to the scenario file): no such file',
    ],
    ['no DAGs', 'nodes: 3', 'dags: expected a list of DAG files'],
    ['a bad duration', 'dags: [etl.yaml]\nfaults:\n  - { at: 2 seconds, kill: n1 }', 'faults[0].at: invalid duration'],
    [
      'a duration without unit',
      'dags: [etl.yaml]\nfaults:\n  - { at: 2, kill: n1 }',
      'faults[0].at: expected a duration like 250ms, 2s or 1m, got 2',
    ],
    ['too many voters', 'nodes: 3\nvoters: 5\ndags: [etl.yaml]', 'voters: expected a whole number from 1 to 3, got 5'],
    ['an unknown top-level field', 'dags: [etl.yaml]\nnodez: 3', 'nodez: unknown field'],
    [
      'behaviour for a task no DAG has',
      'dags: [etl.yaml]\ntasks:\n  zz: { duration: 1s }',
      "tasks.zz: no task 'zz' in the scenario's DAGs",
    ],
    ['a bad exit code', 'dags: [etl.yaml]\ntasks:\n  a: { exit: [300] }', 'tasks.a.exit: expected an exit code 0-255'],
    ['too much clock skew', 'dags: [etl.yaml]\nskew: { n1: 2s }', "skew.n1: '2s' is more than 500ms"],
    [
      'a clock set too far',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, skew: { n2: -600ms } }',
      "faults[0].skew.n2: '-600ms' is more than 500ms",
    ],
    [
      'a clock of an unknown node',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, skew: { leader: 100ms } }',
      "faults[0].skew.leader: unknown node 'leader'",
    ],
    [
      'a loss rate out of range',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, loss: 2 }',
      'faults[0].loss: expected a probability from 0 to 0.9, got 2',
    ],
    [
      'a duration before the last fault',
      'dags: [etl.yaml]\nduration: 1s\nfaults:\n  - { at: 2s, kill: n1 }',
      "duration: '1s' ends before the last fault",
    ],
    [
      'a one-way cut to itself',
      'dags: [etl.yaml]\nfaults:\n  - { at: 1s, oneway: { from: n1, to: n1 } }',
      'faults[0].oneway: from and to are the same node',
    ],
  ])('names the field for %s', (_what, text, message) => {
    const found = problems(text);
    expect(found.join('\n')).toContain(`/s/scenario.yaml: ${message}`);
  });

  it('reports every problem of a file at once', () => {
    const found = problems('nodes: 201\ndags: [nope.yaml]\nfaults:\n  - { at: 1s, kill: n9 }');
    expect(found.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses text that is not YAML, or not a mapping', () => {
    expect(problems('nodes: [3')[0]).toMatch(/not valid YAML/);
    expect(problems('- just\n- a list')[0]).toMatch(/expected a mapping/);
  });
});
