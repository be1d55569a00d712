/**
 * What validate and install ask the world before a timer would: can restic open the repository
 * (restic cat config, with the profile's password), and does the database of a database profile
 * answer (psql: SELECT pg_is_in_recovery()), with the HA manager PG_HA_MANAGER names (a Patroni
 * standby needs PG_HA_MANAGER=patroni, and patronictl must read its cluster). validate counts a
 * failed probe as a problem; install installs anyway (a repository not reachable from here may be
 * from the host) and warns that the timer will fail until it is fixed.
 */
import type { Context } from '../context.js';
import { ToolError } from '../errors.js';
import { callRestic, openRestic } from '../jobs/restic-call.js';
import { withCredentials } from '../credentials/unlock.js';
import type { Profile } from '../profile/model.js';
import { inMaintenanceMode } from '../tools/patroni.js';
import { haManagerSigns, query, QueryError, type HaManagerSigns } from '../tools/postgres.js';

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
      if (profile.databaseConfigured) problems.push(...(await databaseProblems(context, unlocked)));
      return restic.version.text;
    });
  } catch (error) {
    said(error);
  }
  return { resticVersion, problems };
}

async function databaseProblems(context: Context, profile: Profile): Promise<string[]> {
  const port = profile.env.PGPORT ? ` port ${profile.env.PGPORT}` : '';
  const server = `${profile.env.PGHOST ?? 'the local server'}${port}`;
  let signs: HaManagerSigns;
  try {
    await query(context.runner, profile, 'SELECT pg_is_in_recovery()');
    signs = await haManagerSigns(context.runner, profile);
  } catch (error) {
    if (!(error instanceof QueryError) && !(error instanceof ToolError)) throw error;
    return [
      `the database check (psql, SELECT pg_is_in_recovery() on ${server}) failed: ` +
        `${error.message.split('\n')[0]}; the database job would fail the same way`,
    ];
  }
  return haManagerProblems(context, profile, signs);
}

/** The HA manager the server shows against PG_HA_MANAGER; with patroni, whether patronictl reads the cluster. */
async function haManagerProblems(context: Context, profile: Profile, signs: HaManagerSigns): Promise<string[]> {
  const manager = profile.values.PG_HA_MANAGER;
  if (signs.patroni && manager !== 'patroni')
    return [
      `the standby is managed by Patroni, which would resume the paused replay: set PG_HA_MANAGER=patroni and ` +
        `PG_PATRONI_CONFIG (PG_HA_MANAGER is ${manager}); the database job refuses to pause it until then`,
    ];
  if (signs.repmgr && manager === 'none')
    context.log.info(`${profile.name}: repmgr is loaded on the standby; PG_HA_MANAGER=repmgr stops its repmgrd`);
  if (manager !== 'patroni') return [];
  try {
    await inMaintenanceMode(context.runner, profile);
    return [];
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    return [`the Patroni check failed: ${error.message.split('\n').slice(0, 2).join(': ')}`];
  }
}
