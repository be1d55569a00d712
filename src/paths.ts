/**
 * Where things live on the target system, and how those paths map onto this host under --root.
 * Every system path in restic-systemd is absolute as the target system sees it (/etc/restic/…);
 * `onHost` is the one place that prefixes the root.
 */
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

/** The host path of a target-system path. */
export function onHost(paths: Paths, systemPath: string): string {
  return path.join(paths.root, systemPath);
}

export function profileFile(paths: Paths, name: string): string {
  return path.posix.join(paths.configDir, `${name}.conf`);
}
