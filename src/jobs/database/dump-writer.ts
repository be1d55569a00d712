/**
 * What the database job's formats have in common: a writer takes the dump while replay is paused
 * (or, from a primary, without a pause) and, when the dump does not go straight into restic,
 * stores what it wrote once replay is resumed. pg-backup.ts runs them the same way.
 */
import type { StandbyState } from '../../tools/postgres.js';
import type { Restic } from '../restic-call.js';
import type { DumpOutcome } from './dump-into-restic.js';

/** One run of the database job. */
export interface DumpRun {
  restic: Restic;
  host: string;
  runId: string;
  /** The snapshot's tags before the dump: profile, job and run. */
  tags: string[];
}

/** Where the replay was paused, as the snapshot's tags say it: lsn, timeline, replayed-until, pg-major. */
export function pointTags(state: StandbyState): string[] {
  const tags = [`lsn:${state.replayLsn}`, `timeline:${state.timeline}`];
  if (state.replayTimestamp) tags.push(`replayed-until:${new Date(state.replayTimestamp).toISOString()}`);
  return [...tags, `pg-major:${state.serverMajor}`];
}

export interface DumpWriter {
  /** What this writer puts on disk (a spool file or an archive folder), for the run's marker. */
  onDisk?: { spool?: string; archive?: string };
  /** Write the dump; `tags` are the snapshot's, the paused point's included. */
  write(tags: string[], state: StandbyState): Promise<DumpOutcome>;
  /** The dump and the checks held, replay is about to be resumed: start what may overlap that. */
  dumped?(tags: string[]): void;
  /** Replay is resumed: store what was written into restic; the run's outcome. */
  store?(tags: string[]): Promise<DumpOutcome>;
  /** Whatever happened: stop what runs and remove what was written. */
  finish(): Promise<void>;
}
