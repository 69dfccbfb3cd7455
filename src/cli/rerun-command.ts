// `meshrun rerun JOB [--failed] [--task T]... [--downstream] [--wait] [--json]` (docs/cli.md §18):
// re-runs part of a finished job (docs/dag-file.md §13) through POST /v1/jobs/{id}/rerun; with
// --wait it follows the job to its new end as `submit --wait` does (exit 0 succeeded, 1 failed).
import { ApiClient } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { jobPath } from './job-commands.js';
import { followToEnd, type SubmitIo } from './submit-command.js';

export interface RerunOptions {
  readonly failed?: boolean;
  readonly task?: readonly string[];
  readonly downstream?: boolean;
  readonly wait?: boolean;
  readonly json?: boolean;
  readonly api?: string | readonly string[];
}

interface RerunAnswer {
  readonly id: string;
  readonly state: string;
  readonly tasks: number;
}

export async function rerunCommand(id: string, opts: RerunOptions, io: SubmitIo): Promise<ExitCode> {
  const tasks = opts.task ?? [];
  if (opts.failed !== true && tasks.length === 0) {
    throw new CliError('say what to re-run: --failed (the failed part), or --task NAME (repeatable)', EXIT.usage);
  }
  if (opts.downstream === true && tasks.length === 0)
    throw new CliError('--downstream goes with --task (downstream of which tasks?)', EXIT.usage);
  const client = ApiClient.from(opts.api, io.err);
  const body = {
    ...(opts.failed === true ? { failed: true } : {}),
    ...(tasks.length > 0 ? { tasks } : {}),
    ...(opts.downstream === true ? { downstream: true } : {}),
  };
  const r = await client.post<RerunAnswer>(`${jobPath(id)}/rerun`, body);
  if (!opts.wait) {
    io.out(opts.json ? `${JSON.stringify(r)}\n` : `job ${r.id}: ${r.state}, ${r.tasks} task${r.tasks === 1 ? '' : 's'} re-run\n`);
    return EXIT.ok;
  }
  if (!opts.json) io.out(`job ${r.id}: ${r.tasks} task${r.tasks === 1 ? '' : 's'} re-run\n`);
  return followToEnd(client, r.id, opts, io);
}
