/** `install` of many profiles into an image root (--root: real systemctl --root), then the no-op re-install. */
import fs from 'node:fs';
import path from 'node:path';
import { CLI } from '../test/helpers/cli.js';
import { removeTempRoots, tempRoot, writeProfile } from '../test/helpers/temp-root.js';
import { alternate, measure, median, round } from './measure.js';

export interface InstallResults {
  profiles: number;
  unitFiles: number;
  installSeconds: number;
  reinstallSeconds: number;
}

export async function benchInstall(
  profiles: number,
  repetitions: number,
  log: (line: string) => void,
): Promise<InstallResults> {
  const names = Array.from({ length: profiles }, (_, index) => `host${String(index + 1).padStart(3, '0')}`);
  const install = async (root: string) =>
    (await measure({ argv: [process.execPath, CLI, '--root', root, 'install', ...names] })).seconds;
  const roots: string[] = [];
  try {
    const runs = await alternate(['install', 'reinstall'] as const, repetitions, async (variant, repetition) => {
      if (variant === 'install') {
        const root = tempRoot();
        roots[repetition] = root;
        names.forEach((name, index) => {
          fs.writeFileSync(path.join(root, `etc/restic/${name}.password`), `password ${index}\n`, { mode: 0o600 });
          // Every tenth profile a schedule of its own, as a fleet would have.
          const schedule =
            index % 10 === 0 ? `BACKUP_SCHEDULE=*-*-* ${String(index % 24).padStart(2, '0')}:15:00\n` : '';
          writeProfile(
            root,
            name,
            `RESTIC_REPOSITORY=/srv/restic/${name}\nRESTIC_PASSWORD_FILE=/etc/restic/${name}.password\n${schedule}`,
          );
        });
      }
      return install(roots[repetition]!);
    });
    const unitFiles = countFiles(path.join(roots[0]!, 'etc/systemd/system'));
    const result: InstallResults = {
      profiles,
      unitFiles,
      installSeconds: round(median(runs.install), 3),
      reinstallSeconds: round(median(runs.reinstall), 3),
    };
    log(
      `  install of ${profiles} profiles (${unitFiles} files and links): ${result.installSeconds} s; no-op ` +
        `re-install ${result.reinstallSeconds} s`,
    );
    return result;
  } finally {
    removeTempRoots();
  }
}

function countFiles(folder: string): number {
  return fs.readdirSync(folder, { withFileTypes: true, recursive: true }).filter((entry) => !entry.isDirectory())
    .length;
}
