/** What every job returns to `run`, which turns it into a status file, metrics and an exit code. */
import type { Context } from '../context.js';
import type { ExitCode } from '../errors.js';
import type { Profile } from '../profile/model.js';
import type { JobResult, RunStats } from '../reporting/status-file.js';

export interface JobOutcome extends RunStats {
  result: JobResult;
  exitCode: ExitCode;
  message: string;
}

export type Job = (context: Context, profile: Profile) => Promise<JobOutcome>;
