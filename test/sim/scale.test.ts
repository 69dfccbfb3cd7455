// Big clusters in the simulator (issue 16, Scale; docs/simulation.md §2, §7): a few voters and the
// rest learners, random runs and scenarios alike, with every invariant checked and the same
// seed giving the same run.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../sim/args.js';
import { runSimulation } from '../../sim/run.js';
import { maxVoters, stateHashStride } from '../../sim/scale.js';
import { parseScenario, ScenarioError } from '../../sim/scenario/scenario-file.js';
import { runScenario } from '../../sim/scenario/scenario-run.js';

const WIDE = 'name: wide\ntasks:\n  t: { handler: noop, shards: 300 }\n';

describe('big simulated clusters', () => {
  it('keeps every node a voter up to 9 nodes, and 3 to 7 voters beyond', () => {
    expect(maxVoters(9)).toBe(9);
    expect(maxVoters(10)).toBe(7);
    expect(stateHashStride(9)).toBe(1);
    expect(stateHashStride(100)).toBe(12);
    expect(parseArgs(['--seed', '1', '--nodes', '200', '--voters', '7'])).toMatchObject({ nodes: 200, voters: 7 });
    expect(parseArgs(['--seed', '1', '--nodes', '5'])).not.toHaveProperty('voters');
  });

  it('runs 30 nodes (5 voters, 25 learners) under faults, deterministically', { timeout: 120_000 }, () => {
    const one = () => runSimulation({ seed: 4, nodes: 30, durationMs: 2000, hashTrace: true });
    const a = one();
    expect(a.violation).toBeNull();
    expect(a.summary[0]).toContain('30 nodes (5 voters)');
    expect(a.replay).toBe('npm run sim -- --seed 4 --nodes 30 --duration 2000');
    expect(one().traceHash).toBe(a.traceHash);
  });

  it('runs the scheduler on 40 nodes with 3 voters: the job finishes, every node takes part', { timeout: 120_000 }, () => {
    const s = parseScenario('nodes: 40\nvoters: 3\nslots: 2\ndags: [wide.yaml]\nfaults: []\nduration: 1s\n', 'big.yaml', () => WIDE);
    expect(s.learners).toHaveLength(37);
    const r = runScenario(s, 1);
    expect(r.verdict.filter((v) => !v.ok)).toEqual([]);
    expect(r.jobs[0]?.state).toBe('succeeded');
    const ran = new Set(r.jobs[0]?.tasks.map((t) => t.node));
    // 300 tasks over 40 nodes of 2 slots: the claim policy spreads them over (nearly) all of them.
    expect(ran.size).toBeGreaterThanOrEqual(35);
    expect(r.nodes.filter((n) => n.role === 'learner')).toHaveLength(37);
  });

  it('refuses more voters than a big cluster may have, naming the field', () => {
    const problems = (): readonly string[] => {
      try {
        parseScenario('nodes: 50\nvoters: 8\ndags: [wide.yaml]\nfaults: []\n', 'big.yaml', () => WIDE);
      } catch (err) {
        if (err instanceof ScenarioError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems().join('\n')).toMatch(/voters: expected a whole number from 1 to 7/);
  });
});
