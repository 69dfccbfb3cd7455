// What every multi-process test file does after each test: print the nodes' logs when the test
// failed (or MESHRUN_TEST_LOGS=1), and fail a test whose nodes logged an error, even if the
// scenario itself passed (an unhandled rejection, a failed maintenance round).
import { afterEach, expect } from 'vitest';
import type { Processes } from './spawn.js';

export function checkLogsAfterEach(procs: Processes): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' || process.env['MESHRUN_TEST_LOGS'] === '1')
      process.stderr.write(`\nnode logs:\n${procs.logs()}\n`);
    for (const n of procs.all) {
      const bad = n
        .stderr()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l));
      expect(bad, `${n.name} logged errors`).toEqual([]);
    }
  });
}
