// The scheduling policy on workflow shapes, in simulated time (deterministic, so not a timed test):
// small Montage- and Epigenomics-like DAGs (bench/workflows.ts) of tasks of tens of ms on 3 nodes
// x 8 slots finish close to their zero-overhead list schedule. Before the worker claimed ahead,
// claimed for every freed slot and stole from owners with no room, they took 4 to 5 times it
// (`npm run bench -- sim-workflows` has the full-size figures).
import { describe, expect, it } from 'vitest';
import { listSchedule } from '../bench/list-schedule.js';
import { epigenomics, montage } from '../bench/workflows.js';
import type { Dag } from '../bench/dags.js';
import { parseScenario } from '../sim/scenario/scenario-file.js';
import { runScenario } from '../sim/scenario/scenario-run.js';

function makespanRatio(dag: Dag): { ratio: number; state: string } {
  const s = parseScenario('nodes: 3\nvoters: 3\nslots: 8\ndags: [{ file: dag.json, at: 2s }]\nfaults: []\nduration: 2s\n', 'workflow', () =>
    JSON.stringify(dag),
  );
  const r = runScenario(s, 1, { stateHashEvery: 100 });
  const submit = r.timeline.find((e) => e.kind === 'submit')?.t ?? NaN;
  const end = r.timeline.find((e) => e.kind === 'job')?.t ?? NaN;
  return { ratio: (end - submit) / listSchedule(dag, 24).makespanMs, state: r.jobs[0]?.state ?? 'none' };
}

describe('workflow shapes in the simulator', () => {
  for (const [name, dag] of [
    ['Montage-like (500 tasks)', montage(100, 1)],
    ['Epigenomics-like (251 tasks)', epigenomics(2, 30, 1)],
  ] as const) {
    it(`${name} ends within 1.4 x its list schedule on 3 x 8 slots`, () => {
      const { ratio, state } = makespanRatio(dag);
      expect(state).toBe('succeeded');
      expect(ratio).toBeLessThan(1.4);
    });
  }
});
