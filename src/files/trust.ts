/**
 * Who may influence what a root job does. A profile, the files it names that hold secrets, and the
 * programs it makes root run (RESTIC_PASSWORD_COMMAND, NOTIFY_COMMAND, PG_REPMGRD_*_COMMAND, the
 * *_BIN overrides) must belong to root (or to the user running the tool) and not be writable by
 * group or others, and so must every folder above them: whoever could change one of them could
 * run commands as root. This is sshd's StrictModes, for root's backups.
 */
import fs from 'node:fs';
import path from 'node:path';

function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === process.geteuid?.();
}

/** The folders of a path from the top down: /etc, /etc/restic, … (the path itself excluded). */
function foldersAbove(file: string): string[] {
  const folders: string[] = [];
  for (let folder = path.dirname(file); ; folder = path.dirname(folder)) {
    folders.unshift(folder);
    if (folder === path.dirname(folder)) return folders;
  }
}

/**
 * Why `hostPath` may not be trusted to decide what root runs, if it may not; `shown` is how the
 * message names it. Links are followed: the file that is read is the one checked, and every folder
 * above it, from `/` (or from `root` under --root: the image is the operator's).
 */
export function untrusted(hostPath: string, shown: string, root = '/'): string | undefined {
  const found = otherWriter(hostPath, shown, root);
  if (!found) return undefined;
  if ('unreadable' in found) return found.unreadable;
  return found.uid !== undefined
    ? `${found.named} belongs to uid ${found.uid}, not to root: that account could make the job run its commands ` +
        `as root. Make it root's: chown root: ${found.item}`
    : `${found.named} is writable by group or others (mode ${found.mode}), who could make the job run their ` +
        `commands as root: chmod go-w ${found.item}`;
}

/** Which file or folder on the way lets another account change `hostPath`, and how; undefined when none. */
export function otherWriter(
  hostPath: string,
  shown: string,
  root = '/',
): { named: string; item: string; uid?: number; mode?: string } | { unreadable: string } | undefined {
  let real: string;
  try {
    real = fs.realpathSync(hostPath);
  } catch (error) {
    return { unreadable: `${shown} cannot be checked: ${(error as Error).message}` };
  }
  const top = root !== '/' && (real === root || real.startsWith(`${root}/`)) ? root : '/';
  const chain = [
    ...foldersAbove(real).filter((folder) => folder === top || folder.startsWith(top === '/' ? '/' : `${top}/`)),
    real,
  ];
  // Named as the target system sees them: under --root, without the root.
  const onTarget = (item: string) => (top !== '/' && item.startsWith(`${top}/`) ? item.slice(top.length) : item);
  for (const host of chain) {
    const stat = fs.statSync(host);
    const item = onTarget(host);
    const named = host === real ? shown : `the folder ${item}`;
    if (!trustedOwner(stat.uid)) return { named, item, uid: stat.uid };
    // A sticky folder such as /tmp above: its other users cannot rename or remove what root put in it.
    const sticky = stat.isDirectory() && (stat.mode & 0o1000) !== 0 && host !== real;
    if ((stat.mode & 0o022) !== 0 && !sticky)
      return { named, item, mode: (stat.mode & 0o7777).toString(8).padStart(4, '0') };
  }
  return undefined;
}

/**
 * Where programs are found, whatever PATH this process has: under systemd this process's environment is the
 * profile's, and a profile never chooses which program runs. It is Debian's PATH for root, and systemd's.
 */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The file a command's first word runs: itself when it has a "/", else the first match on the system's PATH. */
export function programFile(word: string, searchPath = SYSTEM_PATH): string | undefined {
  if (word.includes('/')) return word;
  for (const folder of searchPath.split(':').filter(Boolean)) {
    const candidate = path.join(folder, word);
    try {
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
