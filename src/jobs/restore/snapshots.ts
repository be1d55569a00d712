/**
 * Which snapshot a restore takes: by default the newest of this profile, this job and this host
 * (never plain `latest`, which may be another host's or another profile's); or the one named; or
 * the newest taken at or before a time; for another host's (the disaster case: a new machine with
 * only the repository and its password).
 */
import { UsageError } from '../../errors.js';
import { jobTags, snapshotHost } from '../../tools/restic.js';
import { callRestic, type Restic } from '../restic-call.js';

export interface ResticSnapshot {
  id: string;
  short_id: string;
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[];
}

export interface SnapshotChoice {
  snapshot?: string;
  /** The newest taken at or before this time. */
  at?: Date;
  host?: string;
}

/** "2026-12-01 14:00" (this machine's time zone) or an ISO time; the reason when it is neither. */
export function readTime(text: string): Date | { problem: string } {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T23:59:59` : text.replace(' ', 'T'));
  return Number.isNaN(date.getTime())
    ? { problem: `"${text}" is not a time: write it like "2026-12-01 14:00" or "2026-12-01"` }
    : date;
}

/** The value of a snapshot's tag `key:value`, if it has one. */
export function tagValue(snapshot: ResticSnapshot, key: string): string | undefined {
  return snapshot.tags?.find((tag) => tag.startsWith(`${key}:`))?.slice(key.length + 1);
}

export async function chooseSnapshot(
  restic: Restic,
  job: 'backup' | 'pg-backup',
  choice: SnapshotChoice,
): Promise<ResticSnapshot> {
  const { profile } = restic;
  const tags = jobTags(profile.name, job);
  const what = job === 'backup' ? 'file backup' : 'database dump';
  if (choice.snapshot) {
    const listed = await callRestic(restic, 'finding the snapshot', ['snapshots', '--json', '--', choice.snapshot]);
    const [found] = JSON.parse(listed.stdout || '[]') as ResticSnapshot[];
    if (!found) throw new UsageError(`there is no snapshot ${choice.snapshot} in the repository of ${profile.name}`);
    if (!tags.every((tag) => found.tags?.includes(tag))) {
      throw new UsageError(
        `snapshot ${found.short_id} is not a ${what} of profile ${profile.name} (its tags: ` +
          `${found.tags?.join(',') || 'none'}): ` +
          `list them with restic-systemd exec ${profile.name} -- restic snapshots --tag ${tags.join(',')}`,
      );
    }
    return found;
  }
  const host = choice.host ?? snapshotHost(profile);
  const listed = await callRestic(restic, `listing the ${what}s`, [
    'snapshots',
    '--json',
    '--host',
    host,
    '--tag',
    tags.join(','),
  ]);
  const all = (JSON.parse(listed.stdout || '[]') as ResticSnapshot[]).sort(
    (a, b) => Date.parse(a.time) - Date.parse(b.time),
  );
  const at = choice.at?.getTime();
  const candidates = at === undefined ? all : all.filter((snapshot) => Date.parse(snapshot.time) <= at);
  const chosen = candidates.at(-1);
  if (!chosen) {
    const when = choice.at ? ` taken at or before ${choice.at.toISOString()}` : '';
    const hint =
      all.length > 0
        ? `the oldest is ${all[0]!.short_id} of ${all[0]!.time}`
        : `none of host ${host} at all (another host's: --host NAME; all of them: restic-systemd exec ` +
          `${profile.name} -- restic snapshots --tag ${tags.join(',')})`;
    throw new UsageError(`there is no ${what} of profile ${profile.name} from host ${host}${when}: ${hint}`);
  }
  return chosen;
}
