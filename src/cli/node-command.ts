// `meshrun node`: validate the flags, start the node, print where it listens, and run until
// SIGTERM or SIGINT, which leave the cluster gracefully (bounded) and exit 0.
import { createLogger } from '../node/logger.js';
import { startNode, StartError, type RunningNode } from '../node/node.js';
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
  let node: RunningNode;
  try {
    node = await startNode(opts, log);
  } catch (err) {
    if (err instanceof StartError) throw new CliError(err.message, err.exitCode);
    throw err;
  }
  // The lines scripts and tests read; logs go to stderr.
  for (const a of node.listenAddrs) out(`listening ${a}\n`);
  out(`api ${node.apiUrl}\n`);

  return new Promise<ExitCode>((resolve) => {
    let leaving = false;
    const onSignal = (signal: NodeJS.Signals): void => {
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
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void node.fatal.then(async () => {
      await node.stop();
      resolve(EXIT.jobFailed);
    });
  });
}
