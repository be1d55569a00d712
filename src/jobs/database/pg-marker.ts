/**
 * The marker of a pg-backup run in progress: what the run changed (replay paused, repmgrd
 * stopped, Patroni's maintenance mode switched on) and the tag of its snapshot, written before
 * each change. Whoever finds it later (the unit's ExecStopPost, or the next run) knows exactly
 * what to undo: it was this job's doing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { onHost, type Paths } from '../../paths.js';
import { removeFileSafely, writeFileSafely } from '../../files/write.js';

export interface PgRunMarker {
  runId: string;
  pid: number;
  start: string;
  repmgrdStopped: boolean;
  /** Patroni's maintenance mode was switched on by this run (never when it was found on). */
  patroniPaused?: boolean;
  replayPaused: boolean;
  /** The spool file of PG_DUMP_MODE=spool, as the target system sees it: removed by whoever cleans up. */
  spool?: string;
  /** The archive folder of PG_DUMP_FORMAT=directory, likewise. */
  archive?: string;
}

function markerPath(paths: Paths, profile: string): string {
  return path.posix.join(paths.stateDir, `${profile}.pg-backup.marker.json`);
}

export function readMarker(paths: Paths, profile: string): PgRunMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(onHost(paths, markerPath(paths, profile)), 'utf8')) as PgRunMarker;
  } catch {
    return undefined;
  }
}

export function writeMarker(paths: Paths, profile: string, marker: PgRunMarker): void {
  writeFileSafely(paths.root, markerPath(paths, profile), `${JSON.stringify(marker)}\n`, {
    mode: 0o600,
    createFolders: 0o755,
  });
}

/** True while a database run's marker says replay is paused or its HA manager held by it. */
export function standbyLeftPaused(paths: Paths, profile: string): boolean {
  const marker = readMarker(paths, profile);
  return marker !== undefined && (marker.replayPaused || marker.repmgrdStopped || marker.patroniPaused === true);
}

/** The marker once the standby is back as it was found: nothing paused, nothing held. */
export function standbyRestored(marker: PgRunMarker): PgRunMarker {
  return { ...marker, repmgrdStopped: false, patroniPaused: false, replayPaused: false };
}

export function removeMarker(paths: Paths, profile: string): void {
  removeFileSafely(paths.root, markerPath(paths, profile));
}
