/**
 * Restoring files of the profile's file backup: only this profile's snapshots of this host (or of
 * the host named), into a folder of root's that is new or empty (restic follows links it finds in
 * its target, and overwrites what is there): by default a new one, /root/restore-<name>-<time>.
 * What came back is counted, and nothing coming back is an error, not a silent success.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { EnvironmentError, ExitCode, JobError, UsageError } from '../../errors.js';
import { otherWriter } from '../../files/trust.js';
import { makeFolder, removeTree } from '../../files/write.js';
import { onHost, targetPath } from '../../paths.js';
import { callRestic, type Restic } from '../restic-call.js';
import type { ResticSnapshot } from './snapshots.js';

export interface FileRestoreSummary {
  snapshot: string;
  snapshotTime: string;
  target: string;
  files: number;
  bytes: number;
}

/** The default target: a new folder of root's, named after the profile and the time. */
export function defaultFileTarget(profile: string, now = new Date()): string {
  return `/root/restore-${profile}-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
}

function countTree(folder: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = countTree(full);
      files += inner.files;
      bytes += inner.bytes;
    } else if (entry.isFile()) {
      files++;
      bytes += fs.lstatSync(full).size;
    } else files++;
  }
  return { files, bytes };
}

/**
 * Check the target before anything is restored: a folder that does not exist yet, or an empty one,
 * that no other account can write (nor any folder above it).
 */
export function checkFileTarget(context: Context, target: string): void {
  const host = onHost(context.paths, target);
  const stat = fs.lstatSync(host, { throwIfNoEntry: false });
  if (stat) {
    if (!stat.isDirectory())
      throw new JobError(
        `${target} exists and is not a folder; ` + `nothing was restored: give a new folder`,
        ExitCode.TargetExists,
      );
    if (fs.readdirSync(host).length > 0) {
      throw new JobError(
        `${target} is not empty; nothing was restored (restic would overwrite what is there): give a new or ` +
          `empty folder`,
        ExitCode.TargetExists,
      );
    }
    const found = otherWriter(host, target, context.paths.root);
    if (found) {
      let how: string;
      if ('unreadable' in found) how = found.unreadable;
      else if (found.uid !== undefined) how = `${found.named} belongs to uid ${found.uid}`;
      else how = `${found.named} is writable by others (mode ${found.mode})`;
      throw new EnvironmentError(
        `${how}: restic would follow links another account plants there; nothing was restored. Restore into a ` +
          `new folder of root's (the default, ${defaultFileTarget('<name>')}), or mkdir -m 700 one`,
      );
    }
  }
}

export async function restoreFiles(
  context: Context,
  restic: Restic,
  snapshot: ResticSnapshot,
  request: { paths: string[]; target: string },
): Promise<FileRestoreSummary> {
  const { paths, log } = context;
  const { target } = request;
  checkFileTarget(context, target);
  // Made component by component, each folder on the way root's and not writable by others.
  makeFolder(paths.root, target, 0o700);
  const includes = request.paths.map((item) => onHost(paths, targetPath(paths, item)));
  log.info(
    `restoring ${includes.length > 0 ? includes.join(' ') : 'everything'} of snapshot ` +
      `${snapshot.short_id} (${snapshot.time}) into ${target}`,
  );
  await callRestic(restic, 'restic restore', [
    'restore',
    snapshot.id,
    '--target',
    onHost(paths, target),
    ...includes.flatMap((include) => ['--include', include]),
  ]);
  const counted = countTree(onHost(paths, target));
  if (counted.files === 0) {
    removeTree(paths.root, target);
    throw new UsageError(
      `nothing of ${includes.join(' ')} is in snapshot ${snapshot.short_id}, whose paths are ` +
        `${snapshot.paths.join(' ')}: ` +
        'give --path as the backup saw it (restic-systemd exec <name> -- restic ls <snapshot> lists it)',
    );
  }
  return { snapshot: snapshot.id, snapshotTime: snapshot.time, target, ...counted };
}
