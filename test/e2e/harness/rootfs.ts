/**
 * The Debian 12 root filesystem the end-to-end containers boot: systemd, dbus, restic, PostgreSQL 15
 * and repmgr, made by debootstrap once and reused from a cache folder keyed by its package list.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'restic', 'procps', 'postgresql-15', 'postgresql-15-repmgr', 'repmgr-common'];
const SUITE = 'bookworm';
// Change when the steps below change, so that a cached rootfs made by older steps is not reused.
const RECIPE_VERSION = 1;

/** Where the rootfs is cached: $E2E_CACHE_DIR or /var/cache/restic-systemd-tests. */
export function rootfsPath(): string {
  const cache = process.env.E2E_CACHE_DIR ?? '/var/cache/restic-systemd-tests';
  const key = crypto.createHash('sha256').update(JSON.stringify({ SUITE, ROOTFS_PACKAGES, RECIPE_VERSION })).digest('hex').slice(0, 12);
  return path.join(cache, `rootfs-${SUITE}-${key}`);
}

/** The cached rootfs, made now (debootstrap, about 45 s) when there is none. */
export function ensureRootfs(log: (line: string) => void = () => {}): string {
  const target = rootfsPath();
  if (fs.existsSync(path.join(target, '.complete'))) return target;
  const building = `${target}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  log(`building the end-to-end rootfs in ${target} (debootstrap ${SUITE}, about a minute)`);
  const started = Date.now();
  try {
    // No mirror argument: debootstrap uses its default mirror.
    execFileSync('debootstrap', ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, SUITE, building], { stdio: ['ignore', 'ignore', 'pipe'] });
    // postgresql-15's postinst made the cluster 15/main; the tests make their own.
    execFileSync('chroot', [building, 'pg_dropcluster', '15', 'main'], { stdio: ['ignore', 'ignore', 'pipe'] });
    fs.writeFileSync(path.join(building, 'etc/hostname'), 'e2e\n');
    fs.writeFileSync(path.join(building, '.complete'), `${new Date().toISOString()}\n`);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    const logFile = path.join(building, 'debootstrap/debootstrap.log');
    const detail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
    fs.rmSync(building, { recursive: true, force: true });
    throw new Error(`building the end-to-end rootfs failed: ${(error as Error).message}\n${stderr}\n${detail}`);
  }
  if (fs.existsSync(path.join(target, '.complete'))) {
    // Another test worker finished first: keep its rootfs.
    fs.rmSync(building, { recursive: true, force: true });
    return target;
  }
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(building, target);
  log(`rootfs ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return target;
}
