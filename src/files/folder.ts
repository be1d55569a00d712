/**
 * Opening a folder of the target system the way a root-run tool must: component by component from
 * the root, each through the descriptor of the folder before it (the /proc/self/fd/<fd>/<name>
 * form of openat(2)), so that no folder can be swapped for a link between a check and a write.
 * A link is followed only when it lies in a folder only root can change, and an absolute link is
 * resolved inside the root (as `systemctl --root` does), never on the host around it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const MAX_LINKS = 40;
const PUBLIC_FOLDERS = new Set([
  '/etc',
  '/etc/systemd',
  '/etc/systemd/system',
  '/var',
  '/var/lib',
  '/var/cache',
  '/var/log',
  '/usr',
  '/usr/local',
  '/usr/local/bin',
  '/usr/local/lib',
  '/run',
]);

/**
 * private: every folder on the way belongs to root (or to the user running the tool) and is not
 * writable by group or others (a world-writable sticky folder such as /tmp may be passed through).
 * shared: folders on the way may belong to another account, as node_exporter's textfile folder
 * and Debian's /var/lib/prometheus above it do. Nothing in such a folder is followed and no folder
 * is created in it, so what is written lands only in folders that account can write anyway.
 */
export type FolderTrust = 'private' | 'shared';

export interface FolderOptions {
  /** Create missing folders with this mode. */
  create?: number;
  trust?: FolderTrust;
}

/** An open folder: names inside it are reached through its descriptor, never through its path again. */
export class OpenFolder {
  constructor(
    readonly fd: number,
    /** The folder as the operator would write it (on this host). */
    readonly shown: string,
  ) {}

  /** The path of an entry of this folder, resolved through the descriptor. */
  entry(name: string): string {
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === process.geteuid?.();
}

/** Why a folder may not be written into (or passed through), if it may not. */
function distrust(stat: fs.Stats, last: boolean, trust: FolderTrust): string | undefined {
  if (trust === 'shared') return undefined;
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
  if (!trustedOwner(stat.uid)) return `it belongs to uid ${stat.uid}, not to root`;
  if ((stat.mode & 0o022) !== 0 && (last || (stat.mode & 0o1000) === 0))
    return `it is writable by group or others (mode ${mode})`;
  return undefined;
}

function fail(shown: string, reason: string): never {
  throw new EnvironmentError(`${shown}: ${reason}`);
}

/** Open `folder` (absolute, as the target system sees it) under `root`, checking every folder on the way. */
export function openFolder(root: string, folder: string, options: FolderOptions = {}): OpenFolder {
  const trust = options.trust ?? 'private';
  const shown = path.join(root, folder);
  let rootFd: number;
  try {
    rootFd = fs.openSync(root, O_RDONLY | O_DIRECTORY);
  } catch (error) {
    fail(root, `cannot open it: ${(error as Error).message}`);
  }
  // The folders open so far, from the root; ".." pops one, never above the root.
  const stack: Array<{ fd: number; trusted: boolean; sticky: boolean; shown: string }> = [
    { fd: rootFd, trusted: true, sticky: false, shown: root },
  ];
  const closeAll = () => stack.splice(0).forEach((entry) => fs.closeSync(entry.fd));
  const queue = folder.split('/');
  let links = 0;
  try {
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (stack.length > 1) fs.closeSync(stack.pop()!.fd);
        continue;
      }
      const current = stack[stack.length - 1]!;
      const entry = `/proc/self/fd/${current.fd}/${name}`;
      const here = path.join(current.shown, name);
      let stat = fs.lstatSync(entry, { throwIfNoEntry: false });
      if (!stat) {
        if (options.create === undefined) fail(here, 'no such folder');
        // In a sticky folder (/tmp) a new folder cannot be taken over: what exists already is checked below.
        if (!current.trusted && !current.sticky)
          fail(here, 'will not create a folder inside a folder of another account');
        // The system's own folders made on the way (an empty --root) get the mode they have on every system.
        const made = path.posix.join(...stack.slice(1).map((item) => path.basename(item.shown)), name);
        try {
          fs.mkdirSync(entry, PUBLIC_FOLDERS.has(`/${made}`) ? 0o755 : options.create);
        } catch (error) {
          fail(here, `cannot create it: ${(error as Error).message}`);
        }
        stat = fs.lstatSync(entry);
      }
      if (stat.isSymbolicLink()) {
        if (!current.trusted) fail(here, 'is a symbolic link inside a folder of another account: it is not followed');
        if (++links > MAX_LINKS) fail(here, 'too many levels of symbolic links');
        const target = fs.readlinkSync(entry);
        if (target.startsWith('/')) {
          // Inside the root, as the target system would see it.
          while (stack.length > 1) fs.closeSync(stack.pop()!.fd);
        }
        queue.unshift(...target.split('/'));
        continue;
      }
      if (!stat.isDirectory()) fail(here, 'is not a folder');
      const fd = fs.openSync(entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      const last = queue.every((rest) => rest === '' || rest === '.');
      const opened = fs.fstatSync(fd);
      const problem = distrust(opened, last, trust);
      if (problem) {
        fs.closeSync(fd);
        // A folder meant for everyone (/tmp: sticky, world-writable) is not to be changed: another one is.
        const fix =
          (opened.mode & 0o1000) !== 0
            ? 'Give a folder of your own instead (e.g. mkdir -m 700 /root/restic-systemd-out)'
            : `Make it root's and not writable by others (chown root: ${here}; chmod go-w ${here})`;
        fail(here, `${problem}: another account could replace what restic-systemd writes there. ${fix}`);
      }
      const owned = trustedOwner(opened.uid);
      stack.push({
        fd,
        trusted: owned && (opened.mode & 0o022) === 0,
        sticky: owned && (opened.mode & 0o1000) !== 0,
        shown: here,
      });
    }
    const last = stack.pop()!;
    closeAll();
    return new OpenFolder(last.fd, shown);
  } catch (error) {
    closeAll();
    if (error instanceof EnvironmentError) throw error;
    fail(shown, (error as Error).message);
  }
}

/**
 * Open a folder that belongs to another account (`uid`: the database's OS user), inside a folder only
 * root can change: never through a link, and only while it is that account's. Its descriptor is
 * what that account's programs are given; root reads nothing through it.
 */
export function openFolderOf(root: string, folder: string, uid: number): OpenFolder {
  const parent = openFolder(root, path.posix.dirname(folder));
  const shown = path.join(root, folder);
  try {
    let fd: number;
    try {
      fd = fs.openSync(parent.entry(path.posix.basename(folder)), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (error) {
      fail(shown, `cannot open it: ${(error as Error).message}`);
    }
    const owner = fs.fstatSync(fd).uid;
    if (owner !== uid) {
      fs.closeSync(fd);
      fail(shown, `it belongs to uid ${owner}, not to the account (uid ${uid}) it was made for`);
    }
    return new OpenFolder(fd, shown);
  } finally {
    parent.close();
  }
}

/**
 * Open a folder below `base`, a folder only root can enter (a restore's work folder): `base` is
 * checked from the root down as openFolder does; the names below it are opened one by one, never
 * through a link, whoever owns them (restic restores an archive's owners as they were), because no
 * other account can reach inside `base`.
 */
export function openFolderBelow(root: string, base: string, relative: string): OpenFolder {
  const top = openFolder(root, base);
  let fd = top.fd;
  let shown = top.shown;
  try {
    for (const name of relative.split('/').filter((part) => part !== '' && part !== '.')) {
      if (name === '..') fail(path.join(shown, name), 'leads out of the folder');
      const next = fs.openSync(`/proc/self/fd/${fd}/${name}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (fd !== top.fd) fs.closeSync(fd);
      fd = next;
      shown = path.join(shown, name);
    }
  } catch (error) {
    if (fd !== top.fd) fs.closeSync(fd);
    top.close();
    if (error instanceof EnvironmentError) throw error;
    fail(shown, (error as Error).message);
  }
  if (fd === top.fd) return top;
  top.close();
  return new OpenFolder(fd, shown);
}
