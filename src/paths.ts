/**
 * Where things live on the target system, and how those paths map onto this host under --root.
 * Every system path in restic-systemd is absolute as the target system sees it (/etc/restic/…);
 * `onHost` is the one place that prefixes the root.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Paths {
  /** The target system's root on this host: / normally, the image folder with --root. */
  root: string;
  /** True with --root: nothing is reloaded or started, systemctl gets --root. */
  offline: boolean;
  configDir: string;
  unitDir: string;
  /** Where restic-systemd's systemd generator goes. */
  generatorDir: string;
  stateDir: string;
  cacheDir: string;
}

export const DEFAULT_CONFIG_DIR = '/etc/restic';

export function createPaths(options: { root?: string; configDir?: string } = {}): Paths {
  return {
    root: path.resolve(options.root ?? '/'),
    offline: options.root !== undefined,
    configDir: path.posix.resolve('/', options.configDir ?? DEFAULT_CONFIG_DIR),
    unitDir: '/etc/systemd/system',
    generatorDir: '/etc/systemd/system-generators',
    stateDir: '/var/lib/restic-systemd',
    cacheDir: '/var/cache/restic-systemd',
  };
}

const MAX_LINKS = 40;

function lstatOrNothing(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    // missing, or under something that is not a folder: what reads it will say so
    return undefined;
  }
}

/**
 * The host path of a target-system path. Under --root, the links on the way are resolved inside
 * the root, as `systemctl --root` and the target system itself would: an image's absolute link
 * /etc/x -> /usr/lib/x leads to <root>/usr/lib/x, never to this host's /usr/lib/x.
 */
export function onHost(paths: Paths, systemPath: string): string {
  if (paths.root === '/') return path.resolve('/', systemPath);
  const queue = systemPath.split('/');
  const done: string[] = [];
  let links = 0;
  // Nothing below a missing entry can be a link: from there on, names are only joined.
  let missing = false;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const here = path.join(paths.root, ...done, name);
    const stat = missing ? undefined : lstatOrNothing(here);
    if (stat?.isSymbolicLink() && ++links <= MAX_LINKS) {
      const target = fs.readlinkSync(here);
      if (target.startsWith('/')) done.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    if (!stat) missing = true;
    done.push(name);
  }
  return path.join(paths.root, ...done);
}

/** The same for the entry itself: the folders on the way resolved, a link at the end left a link (to lstat or readlink
 * it). */
export function entryOnHost(paths: Paths, systemPath: string): string {
  return path.join(onHost(paths, path.posix.dirname(systemPath)), path.posix.basename(systemPath));
}

/** A path given on this host, as the target system sees it (under --root, without the root). */
export function targetPath(paths: Paths, given: string): string {
  const absolute = path.resolve(given);
  return paths.root !== '/' && absolute.startsWith(`${paths.root}/`) ? absolute.slice(paths.root.length) : absolute;
}

export function profileFile(paths: Paths, name: string): string {
  return path.posix.join(paths.configDir, `${name}.conf`);
}
