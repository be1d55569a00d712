/**
 * The standby's HA manager, held while replay is paused and released afterwards, as PG_HA_MANAGER
 * says: repmgr (the local repmgrd stopped, then started), patroni (the cluster's maintenance mode
 * on, then off: Patroni resumes a paused replay otherwise), or none. What was done is recorded in
 * the run's marker before it is done, so that pg-cleanup or the next run undoes exactly that, and
 * never what someone else did (a maintenance mode found on is left on).
 */
import { setTimeout } from 'node:timers/promises';
import type { Context } from '../../context.js';
import type { Profile } from '../../profile/model.js';
import { enterMaintenanceMode, inMaintenanceMode, leaveMaintenanceMode } from '../../tools/patroni.js';
import { replayPauseState } from '../../tools/postgres.js';
import { writeMarker, type PgRunMarker } from './pg-marker.js';
import { startRepmgrd, stopRepmgrd } from './repmgrd.js';

/** Hold the HA manager before replay is paused; the marker then says what to undo. */
export async function holdHaManager(context: Context, profile: Profile, marker: PgRunMarker): Promise<void> {
  const manager = profile.values.PG_HA_MANAGER;
  if (manager === 'repmgr') {
    marker.repmgrdStopped = await stopRepmgrd(context, profile);
    writeMarker(context.paths, profile.name, marker);
  } else if (manager === 'patroni') {
    const someoneElses = "Patroni's cluster is already in maintenance mode (switched on by someone else): left on";
    if (await inMaintenanceMode(context.runner, profile)) {
      context.log.info(someoneElses);
      return;
    }
    marker.patroniPaused = true;
    writeMarker(context.paths, profile.name, marker);
    // Switched on by someone else since it was asked: theirs to switch off.
    marker.patroniPaused = await enterMaintenanceMode(context.runner, profile);
    if (!marker.patroniPaused) {
      writeMarker(context.paths, profile.name, marker);
      context.log.info(someoneElses);
      return;
    }
    context.log.info("Patroni's maintenance mode switched on: automatic failover is off until the dump is done");
  }
}

/**
 * Release what the marker says this job held, each step struck from the marker object once done
 * (resumeStandby writes it: a later retry must not switch off a maintenance mode someone has
 * switched on since); the problems, if any (empty: all done).
 */
export async function releaseHaManager(context: Context, profile: Profile, marker: PgRunMarker): Promise<string[]> {
  const problems: string[] = [];
  if (marker.repmgrdStopped) {
    try {
      const problem = await restartRepmgrd(context, profile);
      if (problem) problems.push(problem);
      else {
        marker.repmgrdStopped = false;
        context.log.info('repmgrd started again');
      }
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (marker.patroniPaused) {
    try {
      await leaveMaintenanceMode(context.runner, profile);
      marker.patroniPaused = false;
      context.log.info("Patroni's maintenance mode switched off");
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}

/** How long a run tries to get repmgrd running again: a standby restart or a switchover takes seconds. */
const REPMGRD_RETRY_MS = 30_000;
const RETRY_PAUSE_MS = 2000;

/**
 * Start repmgrd once the standby answers a query, and again if it exits at once: repmgrd ends within its
 * connect_timeout when its node or its upstream does not answer (a standby restarting, a primary shut down
 * in a switchover), while `systemctl start` has said yes. Undefined once it runs; otherwise why it does not,
 * and the marker keeps it for the next run or pg-cleanup.
 */
async function restartRepmgrd(context: Context, profile: Profile): Promise<string | undefined> {
  const deadline = Date.now() + REPMGRD_RETRY_MS;
  for (;;) {
    const silent = await standbyUnanswered(context, profile);
    const exited = silent ? undefined : await startRepmgrd(context, profile);
    if (!silent && !exited) return undefined;
    if (Date.now() >= deadline)
      return silent
        ? `repmgrd was not started again: the standby does not answer (${silent}); the next run, or ` +
            '`restic-systemd run pg-cleanup <name>`, starts it once it does'
        : `repmgrd exited right after it was started again (${exited}: its node or its upstream does not ` +
            `answer, see systemctl status ${profile.values.PG_REPMGRD_SERVICE}): automatic failover is off; ` +
            'the next run, or `restic-systemd run pg-cleanup <name>`, starts it again';
    if (exited) context.log.warn(`repmgrd exited right after it was started (${exited}): trying again`);
    await setTimeout(RETRY_PAUSE_MS);
  }
}

/** Why the profile's standby does not answer a query now; undefined when it does. */
async function standbyUnanswered(context: Context, profile: Profile): Promise<string | undefined> {
  try {
    await replayPauseState(context.runner, profile);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n').find((line) => line.trim() !== '') ?? 'no answer';
  }
}
