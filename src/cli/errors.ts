// Exit codes of every meshrun command (docs/cli.md §3) and the error that carries one.

export const EXIT = {
  ok: 0,
  /** A job failed (submit --wait). */
  jobFailed: 1,
  /** Invalid input or usage: a bad flag, an unreadable file or data directory, a refused token. */
  usage: 2,
  /** The cluster (or the node's API) could not be reached. */
  unreachable: 3,
  /** Ctrl-C stopped `submit --wait` following its job (the job goes on): 128 + SIGINT, as a shell says. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error meant for the user: printed as `meshrun: <message>` (with --json, as
 * `{ "error": message, "details": details }` on stdout), then the process exits with `exitCode`.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}
