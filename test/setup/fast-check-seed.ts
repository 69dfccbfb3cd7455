// Property tests run the same cases on every run, so a failure in CI is a failure on every rerun.
// FC_SEED=<n> explores other cases; a failing case prints its seed and path to replay it.
import fc from 'fast-check';

const seed = Number(process.env['FC_SEED'] ?? 20_261_124);
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${process.env['FC_SEED']}`);
fc.configureGlobal({ seed });
