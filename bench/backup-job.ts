/**
 * The restic job's own cost: `run backup` against bare `restic backup` of the same unchanged tree
 * into the same repository (whole processes), and the CLI's start-up time; both with the CLI as
 * the Debian package ships it (bundled into one file, packaging/bundle.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forgetArgs, jobTags } from '../src/tools/restic.js';
import { bundleCli } from '../packaging/bundle.js';
import { runCli } from '../test/helpers/cli.js';
import { removeTempRoots, tempRoot, writeProfile } from '../test/helpers/temp-root.js';
import { alternate, measure, median, round } from './measure.js';

export interface BackupJobResults {
  files: number;
  treeMib: number;
  jobSeconds: number;
  bareResticSeconds: number;
  overheadSeconds: number;
  /** restic backup, then the same restic forget the job runs for its retention. */
  bareResticWithRetentionSeconds: number;
  cliStartupSeconds: number;
  nodeStartupSeconds: number;
  resticVersionSeconds: number;
}

function writeTree(folder: string, files: number): number {
  let bytes = 0;
  for (let index = 0; index < files; index++) {
    const sub = path.join(folder, `d${index % 50}`);
    fs.mkdirSync(sub, { recursive: true });
    const content = Buffer.alloc(1024 + (index % 64) * 512, `file ${index} `);
    fs.writeFileSync(path.join(sub, `f${index}.txt`), content);
    bytes += content.length;
  }
  return bytes;
}

export async function benchBackupJob(
  files: number,
  repetitions: number,
  log: (line: string) => void,
): Promise<BackupJobResults> {
  const root = tempRoot();
  try {
    const treeBytes = writeTree(path.join(root, 'data'), files);
    fs.writeFileSync(path.join(root, 'etc/restic/myconf.password'), 'benchmark-password\n', { mode: 0o600 });
    writeProfile(
      root,
      'myconf',
      'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/myconf.password\nBACKUP_PATHS=/data\n',
    );
    for (const args of [
      ['init', 'myconf'],
      ['run', 'backup', 'myconf'],
    ]) {
      const result = runCli(['--root', root, ...args]);
      if (result.exitCode !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
    }
    const resticEnv = {
      ...process.env,
      RESTIC_REPOSITORY: path.join(root, 'srv/repo'),
      RESTIC_PASSWORD_FILE: path.join(root, 'etc/restic/myconf.password'),
      RESTIC_CACHE_DIR: path.join(root, 'var/cache/restic-systemd'),
    };
    const backup = ['restic', 'backup', '--quiet', '--host', os.hostname(), path.join(root, 'data')];
    const retention = ['restic', ...forgetArgs(os.hostname(), jobTags('myconf', 'backup'), { within: '7d' })];
    const bundled = path.join(root, 'bundle');
    await bundleCli(bundled, 'benchmark');
    const cli = path.join(bundled, 'dist/cli.js');
    const argvs = {
      job: [process.execPath, cli, '--root', root, 'run', 'backup', 'myconf'],
      restic: backup,
      'restic+forget': ['bash', '-c', `${backup.join(' ')} && ${retention.join(' ')} > /dev/null`],
    };
    const runs = await alternate(['job', 'restic', 'restic+forget'] as const, repetitions, async (variant) => {
      return (await measure({ argv: argvs[variant], env: variant === 'job' ? process.env : resticEnv })).seconds;
    });
    const startup = await alternate(['cli', 'node', 'restic-version'] as const, repetitions * 2, async (variant) => {
      const argv =
        variant === 'cli'
          ? [process.execPath, cli, '--version']
          : variant === 'node'
            ? [process.execPath, '-e', '']
            : ['restic', 'version'];
      return (await measure({ argv })).seconds;
    });
    const result: BackupJobResults = {
      files,
      treeMib: round(treeBytes / 1024 / 1024, 1),
      jobSeconds: round(median(runs.job), 3),
      bareResticSeconds: round(median(runs.restic), 3),
      overheadSeconds: round(median(runs.job) - median(runs.restic), 3),
      bareResticWithRetentionSeconds: round(median(runs['restic+forget']), 3),
      cliStartupSeconds: round(median(startup.cli), 3),
      nodeStartupSeconds: round(median(startup.node), 3),
      resticVersionSeconds: round(median(startup['restic-version']), 3),
    };
    log(
      `  run backup ${result.jobSeconds} s, bare restic backup ${result.bareResticSeconds} s: overhead ` +
        `${result.overheadSeconds} s; restic backup + forget ${result.bareResticWithRetentionSeconds} s; CLI ` +
        `start-up ${result.cliStartupSeconds} s (node alone ${result.nodeStartupSeconds} s)`,
    );
    return result;
  } finally {
    removeTempRoots();
  }
}
