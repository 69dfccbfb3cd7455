// Structured logs (pino) on stderr: stdout carries only the lines other programs read (`listening
// ...`, `api ...`). JSON by default, human-readable when the log goes to a terminal.
// MESHRUN_LOG_FORMAT=json|pretty and MESHRUN_LOG_LEVEL override both choices.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  readonly pretty?: boolean;
  /** File descriptor to write to (2 = stderr). */
  readonly fd?: number;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env['MESHRUN_LOG_LEVEL'] ?? 'info';
  const format = process.env['MESHRUN_LOG_FORMAT'];
  const fd = opts.fd ?? 2;
  // isTTY is undefined on a pipe or a file, whatever its type says.
  const usePretty =
    opts.pretty ??
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- see above
    (format === 'pretty' || (format !== 'json' && process.stderr.isTTY === true && process.stdout.isTTY === true));
  const base = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (usePretty) {
    // Synchronous: a node that exits right after logging must not lose the last lines.
    return pino(
      base,
      pretty({
        destination: fd,
        sync: true,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- isTTY is undefined on a pipe or a file
        colorize: process.stderr.isTTY === true,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      }),
    );
  }
  return pino(base, pino.destination({ fd, sync: true }));
}

/** A logger that drops everything (in-process tests and benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
