/**
 * What validate and install ask the world before a timer would: can restic open the repository
 * (restic cat config, with the profile's password), and does the database of a database profile
 * answer (psql: SELECT pg_is_in_recovery()). validate counts a failed probe as a problem; install
 * installs anyway (a repository not reachable from here may be from the host) and warns that the
 * timer will fail until it is fixed.
 */
import type { Context } from '../context.js';
import { ToolError } from '../errors.js';
import { callRestic, openRestic } from '../jobs/restic-call.js';
import { withCredentials } from '../credentials/unlock.js';
import type { Profile } from '../profile/model.js';
import { query, QueryError } from '../tools/postgres.js';

export interface ProbeResult {
  /** restic's version, when restic ran. */
  resticVersion: string | null;
  problems: string[];
}

export async function probeProfile(context: Context, profile: Profile): Promise<ProbeResult> {
  const problems: string[] = [];
  const said = (error: unknown) => {
    if (!(error instanceof ToolError)) throw error;
    problems.push(error.message);
  };
  let resticVersion: string | null = null;
  try {
    resticVersion = await withCredentials(context, profile, async (unlocked) => {
      const restic = await openRestic(context, unlocked);
      await callRestic(restic, 'the repository check (restic cat config)', ['cat', 'config']).catch(said);
      if (profile.databaseConfigured) {
        const problem = await databaseProblem(context, unlocked);
        if (problem) problems.push(problem);
      }
      return restic.version.text;
    });
  } catch (error) {
    said(error);
  }
  return { resticVersion, problems };
}

async function databaseProblem(context: Context, profile: Profile): Promise<string | undefined> {
  const port = profile.env.PGPORT ? ` port ${profile.env.PGPORT}` : '';
  const server = `${profile.env.PGHOST ?? 'the local server'}${port}`;
  try {
    await query(context.runner, profile, 'SELECT pg_is_in_recovery()');
    return undefined;
  } catch (error) {
    if (!(error instanceof QueryError) && !(error instanceof ToolError)) throw error;
    return (
      `the database check (psql, SELECT pg_is_in_recovery() on ${server}) failed: ` +
      `${error.message.split('\n')[0]}; the database job would fail the same way`
    );
  }
}
