/**
 * The soak's world inside one end-to-end container: a PostgreSQL primary + standby with repmgrd
 * (test/e2e/container/pg-cluster.sh), three shared repositories (a local one on a small ext4 file
 * system of its own, loop-mounted on the host and bound in; a REST server over TLS; SFTP through the
 * container's sshd), and the profiles: file profiles spread over the three, database profiles on
 * the local one (one repository: its lock keeps their pauses of the one standby apart). Every
 * timer fires each minute with a randomized delay, maintenance every 10 minutes, the restore drill
 * every 15. NOTIFY_COMMAND logs what it is told to the journal, where the end checks read it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Container, PROJECT_IN_CONTAINER } from '../e2e/harness/container.js';
import type { DebianRelease } from '../helpers/global-setup.js';

export const REST_PORT = 8443;
export const LOCAL_SIZE_MIB = 600;
/** The journal identifier of what NOTIFY_COMMAND was told. */
export const NOTIFY_TAG = 'soak-notify';

export type RepositoryKind = 'local' | 'rest' | 'sftp';
export const REPOSITORIES: Record<RepositoryKind, { url: string; password: string; extra: string[] }> = {
  local: { url: '/srv/repos/local/repo', password: 'soak-local-password-7Hd2', extra: [] },
  rest: {
    url: 'rest:https://backup:soak-rest-password-Qx81@127.0.0.1:8443/',
    password: 'soak-rest-repository-password-c3Vb',
    extra: ['RESTIC_CACERT=/etc/rest-server/cert.pem'],
  },
  sftp: { url: 'sftp:keeper@127.0.0.1:/home/keeper/repo', password: 'soak-sftp-password-Lm4e', extra: [] },
};
export const SECRETS = [
  'soak-rest-password-Qx81',
  ...Object.values(REPOSITORIES).map((repository) => repository.password),
];

export interface SoakProfile {
  name: string;
  kind: 'files' | 'database';
  repository: RepositoryKind;
  /** The units whose runs count: the profile's main job first. */
  units: string[];
}

/** The profiles: `count` in all, of which `databases` dump the standby. */
export function soakProfiles(count: number, databases: number): SoakProfile[] {
  const kinds: RepositoryKind[] = ['local', 'rest', 'sftp'];
  const profiles: SoakProfile[] = [];
  for (let index = 0; index < count - databases; index++) {
    const name = `f${String(index + 1).padStart(2, '0')}`;
    profiles.push({
      name,
      kind: 'files',
      repository: kinds[index % kinds.length]!,
      units: [`restic@${name}.service`, `restic-maintenance@${name}.service`],
    });
  }
  for (let index = 0; index < databases; index++) {
    const name = `d${index + 1}`;
    profiles.push({
      name,
      kind: 'database',
      repository: 'local',
      units: [`pg-backup@${name}.service`, `pg-verify@${name}.service`, `restic-maintenance@${name}.service`],
    });
  }
  return profiles;
}

/** The small file system of the local repository: made and mounted on the host, removed by `release`. */
export function localRepositoryFileSystem(base: string): { folder: string; release: () => void } {
  const image = path.join(base, 'local.ext4');
  const folder = path.join(base, 'local');
  fs.mkdirSync(folder, { recursive: true });
  execFileSync('truncate', ['-s', `${LOCAL_SIZE_MIB}M`, image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
  execFileSync('mount', [device, folder]);
  return {
    folder,
    release: () => {
      spawnSync('umount', ['-l', folder]);
      spawnSync('losetup', ['-d', device]);
      fs.rmSync(image, { force: true });
    },
  };
}

function profileLines(profile: SoakProfile): string[] {
  const repository = REPOSITORIES[profile.repository];
  const common = [
    `RESTIC_REPOSITORY=${repository.url}`,
    ...repository.extra,
    'BACKUP_NETWORK_TIMEOUT=30s',
    'BACKUP_METRICS_DIR=/var/lib/soak-metrics',
    'NOTIFY_COMMAND=/usr/local/bin/soak-notify',
    'BACKUP_MAINTENANCE_SCHEDULE=*:0/10',
    'BACKUP_MAINTENANCE_RANDOMIZED_DELAY=30s',
    'BACKUP_CHECK_SUBSET=5%',
  ];
  if (profile.kind === 'files')
    return [
      ...common,
      `BACKUP_PATHS=/srv/data/${profile.name}`,
      'BACKUP_SCHEDULE=minutely',
      'BACKUP_RANDOMIZED_DELAY=20s',
    ];
  return [
    ...common,
    'PGHOST=/run/postgresql',
    'PGPORT=5433',
    'PGUSER=postgres',
    'PG_OS_USER=postgres',
    'PG_BACKUP_SCHEDULE=minutely',
    'PG_BACKUP_RANDOMIZED_DELAY=20s',
    'PG_VERIFY_SCHEDULE=*:0/15',
    'PG_VERIFY_RANDOMIZED_DELAY=30s',
    // The formats in turn: the per-database archives, the SQL stream, the SQL spool.
    ...[[], ['PG_DUMP_FORMAT=sql'], ['PG_DUMP_FORMAT=sql', 'PG_DUMP_MODE=spool']][
      (Number(profile.name.slice(1)) - 1) % 3
    ]!,
  ];
}

/** Boot the container and build the world in it: servers, repositories, data, profiles installed. */
export async function buildWorld(
  release: DebianRelease,
  profiles: readonly SoakProfile[],
  localFolder: string,
): Promise<Container> {
  const container = await Container.boot(release, { writableBinds: [[localFolder, '/srv/repos/local']] });
  try {
    container.run(['sh', `${PROJECT_IN_CONTAINER}/test/e2e/container/pg-cluster.sh`]);
    container.sh(`
      mkdir -p /etc/rest-server /srv/rest /srv/data /var/lib/soak-metrics
      cd /etc/rest-server
      openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \\
        -keyout key.pem -out cert.pem 2>/dev/null
      printf 'backup:%s\\n' "$(openssl passwd -apr1 'soak-rest-password-Qx81')" > htpasswd
      chmod 600 key.pem htpasswd
      id keeper >/dev/null 2>&1 || useradd --create-home --shell /bin/sh keeper
      install -d -m 700 -o keeper -g keeper /home/keeper/.ssh
      install -d -m 700 /root/.ssh
      ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_backup
      install -m 600 -o keeper -g keeper /root/.ssh/id_backup.pub /home/keeper/.ssh/authorized_keys
      printf 'Host 127.0.0.1\\n  User keeper\\n  IdentityFile /root/.ssh/id_backup\\n  BatchMode yes\\n' \\
        > /root/.ssh/config
      systemctl start ssh.service
      for i in $(seq 100); do
        ssh-keyscan -t ed25519 127.0.0.1 > /root/.ssh/known_hosts 2>/dev/null
        [ -s /root/.ssh/known_hosts ] && break
        sleep 0.1
      done`);
    startRestServer(container);
    // Into the journal (the notification unit's sandbox writes no file outside its own folders).
    container.writeFile(
      '/usr/local/bin/soak-notify',
      // One journal line per notification: the message's first line (restic's errors run over several).
      '#!/bin/sh\nexec logger -t soak-notify -- ' +
        '"$RESTIC_SYSTEMD_UNIT $RESTIC_SYSTEMD_RESULT $RESTIC_SYSTEMD_EXIT_CODE ' +
        '$(printf %s "$RESTIC_SYSTEMD_MESSAGE" | head -n 1)"\n',
      0o755,
    );
    const initialised = new Set<RepositoryKind>();
    for (const profile of profiles) {
      if (profile.kind === 'files') writeData(container, profile.name, 0);
      container.writeProfile(profile.name, profileLines(profile), REPOSITORIES[profile.repository].password);
      if (!initialised.has(profile.repository)) {
        container.run(['restic-systemd', 'init', profile.name]);
        initialised.add(profile.repository);
      }
    }
    // One install of all: the timers start together, as after a provisioning run.
    container.run(['restic-systemd', 'install', ...profiles.map((profile) => profile.name)]);
    return container;
  } catch (error) {
    await container.stop().catch(() => undefined);
    throw error;
  }
}

export function startRestServer(container: Container): void {
  container.run([
    'systemd-run',
    '--unit=rest-server',
    '--property=Restart=no',
    'rclone',
    'serve',
    'restic',
    '--addr',
    `127.0.0.1:${REST_PORT}`,
    '--cert',
    '/etc/rest-server/cert.pem',
    '--key',
    '/etc/rest-server/key.pem',
    '--htpasswd',
    '/etc/rest-server/htpasswd',
    '/srv/rest',
  ]);
  container.run([
    'bash',
    '-c',
    `for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${REST_PORT}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`,
  ]);
}

/**
 * A profile's data at a generation: a few files whose content is a function of the generation, one
 * changed, one added and one removed each time. The manifest (path → sha256) is what a restore of a
 * snapshot taken at that generation must give back.
 */
export function writeData(container: Container, profile: string, generation: number): Record<string, string> {
  const folder = `/srv/data/${profile}`;
  container.sh(`
    mkdir -p ${folder}/stable
    [ -f ${folder}/stable/blob.bin ] || head -c 2000000 /dev/urandom > ${folder}/stable/blob.bin
    printf 'generation %s of ${profile}\\n' ${generation} > ${folder}/changing.txt
    rm -f ${folder}/gen-*.txt
    printf '%s\\n' ${generation} > ${folder}/gen-${generation}.txt
    head -c 50000 /dev/urandom > ${folder}/random.bin`);
  return manifest(container, folder);
}

/** path (relative to the folder) → sha256 of every file under a folder of the container. */
export function manifest(container: Container, folder: string): Record<string, string> {
  const listed = container.sh(`cd ${folder} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum`).stdout;
  const files: Record<string, string> = {};
  for (const line of listed.split('\n').filter(Boolean)) {
    const [hash, file] = [line.slice(0, 64), line.slice(66)];
    files[file.replace(/^\.\//, '')] = hash;
  }
  return files;
}
