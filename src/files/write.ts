/**
 * The one module through which restic-systemd writes, replaces and removes files: unit files,
 * status files, metrics, markers, profiles, passwords, locks. A file is written into a temp file
 * of a random name created with O_CREAT|O_EXCL|O_NOFOLLOW (so nothing planted at that name is
 * ever opened), made private or public with fchmod of that descriptor only, synced, and renamed
 * over the target (so a link planted at the target is replaced, never followed). The folder is
 * reached through openFolder's checks: never a folder another account could swap or fill.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { openFolder, openFolderBelow, type FolderTrust, type OpenFolder } from './folder.js';

const { O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

export interface WriteOptions {
  mode: number;
  /** Create missing folders with this mode (default: they must exist). */
  createFolders?: number;
  trust?: FolderTrust;
  /** Never replace an existing file: fail with EEXIST instead (a generated password). */
  exclusive?: boolean;
  /** The file belongs to this account (in a folder of root's: a list the database user's pg_restore reads). */
  owner?: { uid: number; gid: number };
}

function withFolder<T>(
  root: string,
  folder: string,
  options: { createFolders?: number; trust?: FolderTrust },
  work: (open: OpenFolder) => T,
): T {
  const open = openFolder(root, folder, { create: options.createFolders, trust: options.trust });
  try {
    return work(open);
  } finally {
    open.close();
  }
}

function cannot(what: string, shown: string, error: unknown): never {
  if (error instanceof EnvironmentError) throw error;
  throw new EnvironmentError(`cannot ${what} ${shown}: ${(error as Error).message}`);
}

/** Write a file atomically: `file` is absolute as the target system under `root` sees it. */
export function writeFileSafely(root: string, file: string, content: string | Uint8Array, options: WriteOptions): void {
  const shown = path.join(root, file);
  try {
    withFolder(root, path.posix.dirname(file), options, (folder) => {
      const base = path.posix.basename(file);
      const temp = folder.entry(`.${base}.${crypto.randomBytes(8).toString('hex')}.tmp`);
      const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode);
      try {
        try {
          fs.writeFileSync(fd, content);
          // Only this descriptor's file, which this process has just created: the umask must not decide the mode.
          fs.fchmodSync(fd, options.mode);
          if (options.owner) fs.fchownSync(fd, options.owner.uid, options.owner.gid);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        if (options.exclusive) {
          fs.linkSync(temp, folder.entry(base));
          fs.unlinkSync(temp);
        } else {
          fs.renameSync(temp, folder.entry(base));
        }
      } catch (error) {
        fs.rmSync(temp, { force: true });
        throw error;
      }
    });
  } catch (error) {
    cannot('write', shown, error);
  }
}

/** Remove a file (never what a link points to); true when there was one. Optionally its folder too, once empty. */
export function removeFileSafely(root: string, file: string, options: { removeEmptyFolder?: boolean } = {}): boolean {
  const shown = path.join(root, file);
  const folder = path.posix.dirname(file);
  let removed = false;
  try {
    withFolder(root, folder, {}, (open) => {
      try {
        fs.unlinkSync(open.entry(path.posix.basename(file)));
        removed = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    });
    if (options.removeEmptyFolder) {
      withFolder(root, path.posix.dirname(folder), {}, (open) => {
        try {
          fs.rmdirSync(open.entry(path.posix.basename(folder)));
        } catch {
          // not empty (an operator's own drop-in), or gone already
        }
      });
    }
  } catch (error) {
    if (error instanceof EnvironmentError && /no such folder$/.test(error.message)) return false;
    cannot('remove', shown, error);
  }
  return removed;
}

/** Make sure a folder exists (made with `mode` if missing), on a path only root can change. */
export function makeFolder(root: string, folder: string, mode: number, trust: FolderTrust = 'private'): void {
  withFolder(root, folder, { createFolders: mode, trust }, () => undefined);
}

/** Open (creating it, 0600) a file to hold a lock on: a descriptor the caller closes. */
export function openLockFile(root: string, file: string, createFolders: number): number {
  try {
    return withFolder(root, path.posix.dirname(file), { createFolders }, (folder) =>
      fs.openSync(folder.entry(path.posix.basename(file)), O_RDWR | O_CREAT | O_NOFOLLOW, 0o600),
    );
  } catch (error) {
    cannot('open the lock file', path.join(root, file), error);
  }
}

/** Create a new file (never an existing name, never through a link) with `mode`, for a writer that streams into it: a
 * descriptor the caller closes. */
export function createFileExclusively(root: string, file: string, mode: number): number {
  try {
    return withFolder(root, path.posix.dirname(file), {}, (folder) => {
      const fd = fs.openSync(folder.entry(path.posix.basename(file)), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      fs.fchmodSync(fd, mode);
      return fd;
    });
  } catch (error) {
    cannot('create', path.join(root, file), error);
  }
}

/**
 * Make a folder (mode `mode`) that belongs to another account, `owner`, inside a folder only root can
 * change: what that account's programs write (pg_dump's archive) goes there, reached through a
 * descriptor of it (the folders above stay root's alone). An existing folder is given to `owner` as is.
 */
export function makeFolderFor(root: string, folder: string, mode: number, owner: { uid: number; gid: number }): void {
  withFolder(root, path.posix.dirname(folder), {}, (parent) => {
    const entry = parent.entry(path.posix.basename(folder));
    try {
      fs.mkdirSync(entry, mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') cannot('create', path.join(root, folder), error);
    }
    const fd = fs.openSync(entry, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | O_NOFOLLOW);
    try {
      fs.fchownSync(fd, owner.uid, owner.gid);
      fs.fchmodSync(fd, mode);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * Remove a folder and all it holds, never following a link, from a folder only root can change;
 * true when it was there. Only for trees no other account can write into (a part that belongs to
 * another account is emptied as that account first): the walk goes by names below the descriptor.
 */
export function removeTree(root: string, folder: string): boolean {
  const shown = path.join(root, folder);
  try {
    return withFolder(root, path.posix.dirname(folder), {}, (parent) => {
      const entry = parent.entry(path.posix.basename(folder));
      if (!fs.lstatSync(entry, { throwIfNoEntry: false })) return false;
      fs.rmSync(entry, { recursive: true, force: true });
      return true;
    });
  } catch (error) {
    if (error instanceof EnvironmentError && /no such folder$/.test(error.message)) return false;
    cannot('remove', shown, error);
  }
}

/**
 * Give a whole tree to another account (lchown: a link itself, never what it points to), below a
 * folder only root can enter (`base`): restic restores an archive as root, the database user's
 * pg_restore reads it.
 */
export function giveTree(root: string, base: string, relative: string, owner: { uid: number; gid: number }): void {
  const open = openFolderBelow(root, base, relative);
  try {
    const walk = (entry: string) => {
      fs.lchownSync(entry, owner.uid, owner.gid);
      if (!fs.lstatSync(entry).isDirectory()) return;
      for (const name of fs.readdirSync(entry)) walk(`${entry}/${name}`);
    };
    walk(open.entry('.'));
  } finally {
    open.close();
  }
}
