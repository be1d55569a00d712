/** What every job returns to `run`, which turns it into a status file, metrics and an exit code. */
import type { Context } from '../context.js';
import type { ExitCode } from '../errors.js';
import type { Profile } from '../profile/load.js';
import type { JobResult } from './status.js';

export interface JobOutcome {
  result: JobResult;
  exitCode: ExitCode;
  message: string;
  host?: string;
  resticVersion?: string;
  snapshotId?: string;
  filesNew?: number;
  filesChanged?: number;
  bytesAdded?: number;
}

export type Job = (context: Context, profile: Profile) => Promise<JobOutcome>;
