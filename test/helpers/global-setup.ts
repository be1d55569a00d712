import { execFileSync } from 'node:child_process';
/**
 * The programs the test suite needs, with the Debian package of each. The global set-up installs
 * the missing ones (as root) and fails, naming the package, when it cannot: no test skips.
 */

export const REQUIRED_TOOLS: ReadonlyArray<{ binary: string; debianPackage: string }> = [
  { binary: 'systemd-analyze', debianPackage: 'systemd' },
  { binary: 'systemctl', debianPackage: 'systemd' },
  { binary: 'restic', debianPackage: 'restic' },
  { binary: 'rclone', debianPackage: 'rclone' },
  { binary: 'flock', debianPackage: 'util-linux' },
  { binary: 'setpriv', debianPackage: 'util-linux' },
  { binary: 'runuser', debianPackage: 'util-linux' },
  { binary: 'zstd', debianPackage: 'zstd' },
  { binary: 'pigz', debianPackage: 'pigz' },
  { binary: 'ss', debianPackage: 'iproute2' },
  { binary: 'pgrep', debianPackage: 'procps' },
  { binary: 'python3', debianPackage: 'python3' },
  { binary: 'systemd-notify', debianPackage: 'systemd' },
  { binary: '/usr/lib/postgresql/15/bin/initdb', debianPackage: 'postgresql-15' },
  { binary: '/usr/lib/postgresql/15/bin/repmgr', debianPackage: 'postgresql-15-repmgr' },
  // The end-to-end tier: a real systemd booted in a container.
  { binary: 'systemd-nspawn', debianPackage: 'systemd-container' },
  { binary: 'debootstrap', debianPackage: 'debootstrap' },
  { binary: 'nsenter', debianPackage: 'util-linux' },
];

export function hasBinary(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function missingTools(): Array<{ binary: string; debianPackage: string }> {
  return REQUIRED_TOOLS.filter((tool) => !hasBinary(tool.binary));
}

export default function globalSetup(): void {
  let missing = missingTools();
  if (missing.length > 0 && process.getuid?.() === 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
    process.stderr.write(`\ninstalling the test tools' packages: ${packages.join(' ')}\n`);
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      // reported below with the exact command to run
    }
    missing = missingTools();
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))].join(' ');
    throw new Error(`the tests need ${missing.map((tool) => tool.binary).join(', ')}: run apt-get install -y ${packages} (as root), then npm test again`);
  }
  if (process.getuid?.() !== 0) throw new Error('the tests and the benchmark need root (they run PostgreSQL as its own user and boot a container with systemd-nspawn): run them as root');
}
