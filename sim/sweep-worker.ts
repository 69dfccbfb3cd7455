// A sweep worker thread: runs the seeds it is sent, one at a time, and posts back each result.
import { parentPort } from 'node:worker_threads';
import { runSimulation } from './run.js';
import type { SweepJob } from './sweep.js';

parentPort?.on('message', (job: SweepJob) => {
  parentPort?.postMessage(runSimulation(job));
});
