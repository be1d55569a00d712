/**
 * The Debian package as the README builds it (npm run deb), into a folder of the test's own, and
 * for Debian 12 the Node.js package an operator installs there: NodeSource's nodejs (Debian 12's
 * own is 18), rebuilt from this host's installation with dpkg-repack and kept in the test cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT } from './cli.js';
import { testCacheDir } from './global-setup.js';

/** Build restic-systemd_<version>_all.deb into `folder`; its path. */
export function buildPackage(folder: string, version?: string): string {
  const result = spawnSync(
    path.join(PROJECT, 'node_modules/.bin/tsx'),
    [path.join(PROJECT, 'packaging/build-deb.ts'), '--out', folder, ...(version ? ['--version', version] : [])],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`npm run deb failed:\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/** NodeSource's nodejs package (>= 20.19) as a .deb file, for a Debian 12 container. */
export function nodesourcePackage(): string {
  const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'nodejs'], { encoding: 'utf8' });
  const major = /^(\d+)\.(\d+)/.exec(version.stdout ?? '');
  if (
    version.status !== 0 ||
    !major ||
    Number(major[1]) < 20 ||
    (Number(major[1]) === 20 && Number(major[2]) < 19) ||
    !version.stdout.includes('nodesource')
  ) {
    throw new Error(
      `the Debian 12 package test installs NodeSource's nodejs (>= 20.19) as an operator would; it is rebuilt from this host's, which has ${version.stdout || 'none'}: install Node.js 20.19 or newer from NodeSource (https://github.com/nodesource/distributions)`,
    );
  }
  const folder = path.join(testCacheDir(), 'nodejs');
  const file = path.join(folder, `nodejs_${version.stdout.replaceAll(':', '%3a')}_amd64.deb`);
  if (fs.existsSync(file)) return file;
  fs.rmSync(folder, { recursive: true, force: true });
  fs.rmSync(`${folder}.building`, { recursive: true, force: true });
  fs.mkdirSync(`${folder}.building`, { recursive: true });
  execFileSync('dpkg-repack', ['nodejs'], { cwd: `${folder}.building`, stdio: 'ignore' });
  fs.renameSync(`${folder}.building`, folder);
  if (!fs.existsSync(file))
    throw new Error(`dpkg-repack nodejs did not make ${file}: ${fs.readdirSync(folder).join(', ')}`);
  return file;
}
