// `meshrun node`: validate the flags, start the node, print where it listens, and run until
// SIGTERM or SIGINT, which leave the cluster gracefully (bounded) and exit 0. A signal that comes
// while the node is still starting (joining an unreachable bootstrap, say) cancels the start: what
// had started is stopped in order, and the process exits 0 without printing its lines.
import { createLogger } from '../node/logger.js';
import { startNode, StartCancelled, StartError, type RunningNode } from '../node/node.js';
import type { NodeOptions } from '../node/options.js';
import { CliError, EXIT, type ExitCode } from './errors.js';

/** Leave and stop together may take this long before the process exits regardless. */
const SHUTDOWN_LIMIT_MS = 15_000;

export async function nodeCommand(opts: NodeOptions, out: (s: string) => void): Promise<ExitCode> {
  const log = createLogger();
  // A daemon stays up through a stray rejected promise (libp2p stream teardown has produced
  // some); it is logged loudly so it gets fixed. An uncaught exception leaves state unknown: exit.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception: exiting');
    process.exit(1);
  });
  // The handlers go in before the start: until they are set, a signal kills the process outright.
  const starting = new AbortController();
  let running: ((signal: NodeJS.Signals) => void) | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (running !== null) return running(signal);
    if (starting.signal.aborted) return log.warn({ signal }, 'already stopping');
    log.info({ signal }, 'stopping before the node has started');
    starting.abort();
    // Stopping a half-started node is quick (the host aborts its dials); exit regardless past this.
    setTimeout(() => {
      log.error('stopping took too long; exiting');
      process.exit(EXIT.jobFailed);
    }, SHUTDOWN_LIMIT_MS).unref();
  };
  // From here this command owns the signals (bin/meshrun's exit-at-once handlers go).
  for (const s of ['SIGTERM', 'SIGINT'] as const) {
    process.removeAllListeners(s);
    process.on(s, onSignal);
  }

  // Said once, so an operator who finds the API answering 401 sees where the token came from.
  if (opts.apiTokenSource !== null)
    log.info({ source: opts.apiTokenSource === 'file' ? '--api-token-file' : 'MESHRUN_TOKEN' }, 'the API requires a bearer token');

  let node: RunningNode;
  try {
    node = await startNode(opts, log, { signal: starting.signal });
  } catch (err) {
    if (err instanceof StartCancelled) {
      log.info('stopped before the node had started');
      return EXIT.ok;
    }
    if (err instanceof StartError) throw new CliError(err.message, err.exitCode);
    throw err;
  }
  // The lines scripts and tests read; logs go to stderr.
  for (const a of node.listenAddrs) out(`listening ${a}\n`);
  out(`api ${node.apiUrl}\n`);

  return new Promise<ExitCode>((resolve) => {
    let leaving = false;
    running = (signal: NodeJS.Signals): void => {
      if (leaving) {
        log.warn({ signal }, 'second signal: stopping without waiting for the leave to finish');
        void node.stop().finally(() => resolve(EXIT.jobFailed));
        return;
      }
      leaving = true;
      log.info({ signal }, 'leaving the cluster');
      setTimeout(() => {
        log.error('leaving and stopping took too long; exiting');
        resolve(EXIT.jobFailed);
      }, SHUTDOWN_LIMIT_MS).unref();
      void (async () => {
        try {
          const outcome = await node.leave();
          log.info({ outcome }, 'left the cluster');
        } catch (err) {
          log.error({ err }, 'leaving failed');
        }
        await node.stop();
        resolve(EXIT.ok);
      })();
    };
    void node.fatal.then(async () => {
      await node.stop();
      resolve(EXIT.jobFailed);
    });
  });
}
