/**
 * The wire format between the database job and `restic-systemd internal-pipeline`, which restic
 * 0.17+ runs for it: the dump's stages as JSON in one variable of restic's environment.
 */
import { UsageError } from '../errors.js';

/** The variable through which the job hands the stages to this command. */
export const STAGES_VARIABLE = 'RESTIC_SYSTEMD_DUMP_STAGES';

/**
 * One stage as the job describes it: the binary, its arguments, the variables it gets (none of
 * them secret), and the names of those it takes from this process's environment (libpq's, whose
 * password must not travel through here).
 */
export interface StageSpec {
  program: string;
  args: string[];
  env: Record<string, string>;
  keep: string[];
}

export function readStageSpec(text: string | undefined): StageSpec[] {
  let spec: unknown;
  try {
    spec = JSON.parse(text ?? '');
  } catch {
    spec = undefined;
  }
  const valid =
    Array.isArray(spec) &&
    spec.length > 0 &&
    spec.every(
      (stage: StageSpec) =>
        typeof stage?.program === 'string' &&
        Array.isArray(stage.args) &&
        stage.args.every((arg) => typeof arg === 'string') &&
        typeof stage.env === 'object' &&
        Array.isArray(stage.keep),
    );
  if (!valid)
    throw new UsageError(
      `internal-pipeline is what restic runs for the database job; it needs ${STAGES_VARIABLE} and is not ` +
        `meant to be run by hand`,
    );
  return spec as StageSpec[];
}
