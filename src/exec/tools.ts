/**
 * The external programs restic-systemd calls, each with the variable that overrides its path and
 * the Debian package that provides it (named in the error when it is missing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { SYSTEM_PATH, programFile, untrusted } from '../files/trust.js';

export const TOOLS = {
  systemctl: { envVar: 'SYSTEMCTL_BIN', binary: 'systemctl', debianPackage: 'systemd' },
  'systemd-analyze': { envVar: 'SYSTEMD_ANALYZE_BIN', binary: 'systemd-analyze', debianPackage: 'systemd' },
  'systemd-notify': { envVar: 'SYSTEMD_NOTIFY_BIN', binary: 'systemd-notify', debianPackage: 'systemd' },
  'systemd-creds': { envVar: 'SYSTEMD_CREDS_BIN', binary: 'systemd-creds', debianPackage: 'systemd' },
  restic: { envVar: 'RESTIC_BIN', binary: 'restic', debianPackage: 'restic' },
  flock: { envVar: 'FLOCK_BIN', binary: 'flock', debianPackage: 'util-linux' },
  runuser: { envVar: 'RUNUSER_BIN', binary: 'runuser', debianPackage: 'util-linux' },
  setpriv: { envVar: 'SETPRIV_BIN', binary: 'setpriv', debianPackage: 'util-linux' },
  psql: { envVar: 'PSQL_BIN', binary: 'psql', debianPackage: 'postgresql-client' },
  pg_dumpall: { envVar: 'PG_DUMPALL_BIN', binary: 'pg_dumpall', debianPackage: 'postgresql-client' },
  pg_dump: { envVar: 'PG_DUMP_BIN', binary: 'pg_dump', debianPackage: 'postgresql-client' },
  pg_restore: { envVar: 'PG_RESTORE_BIN', binary: 'pg_restore', debianPackage: 'postgresql-client' },
  vacuumdb: { envVar: 'VACUUMDB_BIN', binary: 'vacuumdb', debianPackage: 'postgresql-client' },
  // Patroni's maintenance mode around a paused replica (PG_HA_MANAGER=patroni).
  patronictl: { envVar: 'PATRONICTL_BIN', binary: 'patronictl', debianPackage: 'patroni' },
  // Cuts one database out of an old single-file SQL dump (a stream: never held in memory).
  awk: { envVar: 'AWK_BIN', binary: 'awk', debianPackage: 'mawk' },
  rm: { envVar: 'RM_BIN', binary: 'rm', debianPackage: 'coreutils' },
  find: { envVar: 'FIND_BIN', binary: 'find', debianPackage: 'findutils' },
  id: { envVar: 'ID_BIN', binary: 'id', debianPackage: 'coreutils' },
  gzip: { envVar: 'GZIP_BIN', binary: 'gzip', debianPackage: 'gzip' },
  pigz: { envVar: 'PIGZ_BIN', binary: 'pigz', debianPackage: 'pigz' },
  zstd: { envVar: 'ZSTD_BIN', binary: 'zstd', debianPackage: 'zstd' },
  cat: { envVar: 'CAT_BIN', binary: 'cat', debianPackage: 'coreutils' },
  // Only to learn why an SFTP session did not start, when restic did not say (tools/sftp-probe.ts).
  ssh: { envVar: 'SSH_BIN', binary: 'ssh', debianPackage: 'openssh-client' },
} as const;

export type ToolName = keyof typeof TOOLS;

/** A program that is not one of ours: what `exec <name> -- <command…>` runs. */
export interface OtherProgram {
  program: string;
}

/** The binary to run for a tool: its *_BIN override from the environment, or its usual name. */
export function toolBinary(tool: ToolName | OtherProgram, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof tool !== 'string') return tool.program;
  const spec = TOOLS[tool];
  return env[spec.envVar] || spec.binary;
}

/**
 * The binary to run as root for a tool. An override (*_BIN) must be a program only root can change,
 * like everything that decides what root runs (files/trust.ts).
 */
export function checkedToolBinary(tool: ToolName | OtherProgram, env: NodeJS.ProcessEnv = process.env): string {
  const binary = toolBinary(tool, env);
  if (typeof tool !== 'string' || !env[TOOLS[tool].envVar]) return binary;
  // A missing program is not a trust problem: running it fails with the package to install.
  const file = programFile(binary, SYSTEM_PATH);
  const problem = file && fs.existsSync(file) ? untrusted(file, `${TOOLS[tool].envVar}=${binary}`) : undefined;
  if (problem) throw new EnvironmentError(`${problem} (it would run as root)`);
  return binary;
}

/** Whether a tool can be run here: its *_BIN override, or its name, is an executable file (on PATH). */
export function toolAvailable(tool: ToolName, env: NodeJS.ProcessEnv = process.env): boolean {
  const binary = toolBinary(tool, env);
  const candidates = binary.includes('/')
    ? [binary]
    : SYSTEM_PATH.split(':')
        .filter(Boolean)
        .map((folder) => path.join(folder, binary));
  return candidates.some((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}
