/**
 * PG_DUMP_FORMAT=directory (per-database archives of one replay point) and `restic-systemd restore`,
 * against the real primary + standby with repmgr, real pg_dump/pg_restore and real restic of every
 * supported release: a database under a new name (rows and checksums equal to the source), one
 * table, all databases with roles, grants and settings into a fresh cluster, an existing database
 * refused then renamed aside, an old single-file SQL dump, files. Once: the faults of the dump
 * (primary, paused, pg_dump failing half-way, SIGKILL, promotion, a spool too small), a restore
 * SIGKILLed and run again, a work folder without room, a hostile file target, the restore drill.
 * Only wrappers around pg_dump and pg_restore inject failure or delay.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT, runCli, type CliResult } from '../helpers/cli.js';
import type { ResticRelease } from '../helpers/global-setup.js';
import {
  PG_BIN,
  newScratchFoldersLeft,
  scratchFolders,
  standbyProfileLines,
  startCluster,
  startNode,
  type PgCluster,
} from '../helpers/pg-cluster.js';
import { createRepository } from '../helpers/restic.js';
import { RESTIC_MATRIX } from '../helpers/restic-versions.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PASSWORD = 'pg-archive-repository-password';
const STATE = 'var/lib/restic-systemd';

interface Setup {
  root: string;
  cli: (...args: string[]) => CliResult;
  env: NodeJS.ProcessEnv;
  snapshots: () => Array<{ id: string; short_id: string; tags?: string[]; paths: string[]; hostname: string }>;
  restic: (...args: string[]) => CliResult;
}

function setup(
  cluster: PgCluster,
  release: ResticRelease,
  options: { extra?: string; env?: NodeJS.ProcessEnv; port?: number } = {},
): Setup {
  const root = tempRoot();
  fs.writeFileSync(path.join(root, 'etc/restic/db.password'), `${PASSWORD}\n`, { mode: 0o600 });
  writeProfile(
    root,
    'db',
    [
      ...standbyProfileLines(cluster, options.port),
      `PG_REPMGRD_STOP_COMMAND=${cluster.repmgrd.stopCommand}`,
      `PG_REPMGRD_START_COMMAND=${cluster.repmgrd.startCommand}`,
      'PG_DUMP_EXCLUDE_DATABASES=repmgr',
      options.extra ?? '',
    ].join('\n') + '\n',
  );
  createRepository(release, path.join(root, 'srv/repo'), PASSWORD);
  const env = { RESTIC_BIN: release.binary, ...options.env };
  const restic = (...args: string[]) => runCli(['--root', root, 'exec', 'db', '--', release.binary, ...args]);
  return {
    root,
    env,
    cli: (...args) => runCli(['--root', root, ...args], env),
    snapshots: () => JSON.parse(restic('snapshots', '--json').stdout),
    restic,
  };
}

/** A cluster of its own (the one a restore goes into), as a fresh initdb makes it: postgres, template0/1. */
function freshCluster(
  cluster: PgCluster,
  port: number,
): { to: string; sql: (db: string, sql: string) => string; stop: () => void } {
  const data = path.join(cluster.base, `fresh-${port}`);
  const run = (args: string[]) => {
    const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  run([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '-A', 'trust', '--no-instructions']);
  fs.appendFileSync(
    `${data}/postgresql.conf`,
    `port = ${port}\nlisten_addresses = ''\nunix_socket_directories = '${cluster.base}'\nfsync = off\n`,
  );
  startNode(data, `${data}.log`);
  return {
    to: `host=${cluster.base} port=${port}`,
    sql: (db, sql) =>
      run([
        `${PG_BIN}/psql`,
        '-X',
        '-A',
        '-t',
        '-q',
        '-h',
        cluster.base,
        '-p',
        String(port),
        '-d',
        db,
        '-c',
        sql,
      ]).trim(),
    stop: () => run([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']) && undefined,
  };
}

/** A checksum of every row of a table, in a stable order. */
const checksum = (table: string) =>
  `SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ${table} t`;
const TABLES = ['shop.customers', 'shop.orders', 'shop.order_items', 'shop.events'];
const replayState = (cluster: PgCluster) => cluster.sql(cluster.standbyPort, 'SELECT pg_get_wal_replay_pause_state()');
const statusOf = (root: string, job = 'pg-backup') =>
  JSON.parse(fs.readFileSync(path.join(root, STATE, `db.${job}.json`), 'utf8'));
const spoolEntries = (root: string) =>
  fs.existsSync(path.join(root, STATE, 'spool')) ? fs.readdirSync(path.join(root, STATE, 'spool')) : [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function wrapper(cluster: PgCluster, name: string, body: string): string {
  const file = path.join(cluster.base, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** The CLI in the background, in a process group of its own (killed whole, as systemd kills a unit). */
function startCli(s: Setup, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [path.join(PROJECT, 'dist/cli.js'), '--root', s.root, ...args], {
    env: { ...process.env, ...s.env, ...env },
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, stderr: () => stderr, kill: () => process.kill(-child.pid!, 'SIGKILL') };
}

function fillShop(cluster: PgCluster): void {
  const p = cluster.primaryPort;
  for (const statement of [
    "CREATE ROLE app LOGIN PASSWORD 'app-password-81f'",
    'CREATE ROLE "report reader" NOLOGIN',
    'GRANT app TO "report reader"',
    'CREATE DATABASE shop OWNER app',
    'CREATE DATABASE small',
    "ALTER DATABASE shop SET work_mem = '8MB'",
    "COMMENT ON DATABASE shop IS 'the shop'",
    'ALTER ROLE app IN DATABASE shop SET search_path = shop, public',
  ])
    cluster.sql(p, statement);
  cluster.sql(
    p,
    `CREATE SCHEMA shop AUTHORIZATION app;
     CREATE TABLE shop.customers(id bigint PRIMARY KEY, email text UNIQUE, country char(2));
     CREATE TABLE shop.orders(id bigint PRIMARY KEY, customer_id bigint REFERENCES shop.customers(id),
       total numeric(12,2));
     CREATE INDEX orders_customer ON shop.orders(customer_id);
     CREATE TABLE shop.order_items(id bigint PRIMARY KEY, order_id bigint REFERENCES shop.orders(id), qty int);
     CREATE TABLE shop.events(id bigserial PRIMARY KEY, customer_id bigint REFERENCES shop.customers(id), kind text);
     INSERT INTO shop.customers SELECT g, 'user' || g || '@example.org', 'DE' FROM generate_series(1, 2000) g;
     INSERT INTO shop.orders SELECT g, 1 + g % 2000, g / 7.0 FROM generate_series(1, 20000) g;
     INSERT INTO shop.order_items SELECT g, 1 + g % 20000, g % 5 FROM generate_series(1, 40000) g;
     INSERT INTO shop.events(customer_id, kind) SELECT 1 + g % 2000, 'view' FROM generate_series(1, 30000) g;
     ALTER TABLE shop.customers OWNER TO app; ALTER TABLE shop.orders OWNER TO app;
     GRANT SELECT ON shop.orders TO "report reader"`,
    'shop',
  );
  cluster.sql(
    p,
    'CREATE TABLE items(id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM ' +
      'generate_series(1, 500) g',
    'small',
  );
}

afterAll(removeTempRoots);

describe.each(RESTIC_MATRIX)('with restic %s', (_label, release) => {
  const once = release.suite === 'trixie';
  let cluster: PgCluster;
  let s: Setup;
  beforeAll(() => {
    cluster = startCluster(25702);
    fillShop(cluster);
    cluster.repmgrd.start();
    // The standby has everything before the first dump.
    for (
      let tries = 0;
      tries < 100 &&
      cluster.sql(cluster.standbyPort, "SELECT count(*) FROM pg_database WHERE datname = 'small'") !== '1';
      tries++
    )
      spawnSync('sleep', ['0.1']);
    s = setup(cluster, release);
    const result = s.cli('run', 'pg-backup', 'db');
    if (result.exitCode !== 0) throw new Error(`the first dump failed: ${result.stderr}`);
  }, 180_000);
  afterAll(() => cluster?.stop());

  const source = (table: string) => cluster.sql(cluster.standbyPort, checksum(table), 'shop');

  test(
    'the dump is one snapshot of per-database archives of one replay point; replay resumed, nothing ' +
      'left in the spool',
    () => {
      const [snapshot] = s.snapshots();
      expect(snapshot!.tags).toEqual(
        expect.arrayContaining([
          'profile:db',
          'job:pg-backup',
          'format:directory',
          'database:shop',
          'database:small',
          'database:postgres',
          expect.stringMatching(/^lsn:[0-9A-F]+\/[0-9A-F]+$/),
          'timeline:1',
          expect.stringMatching(/^pg-major:\d+$/),
        ]),
      );
      expect(snapshot!.tags).not.toContain('database:repmgr');
      const listed = s.restic('ls', snapshot!.id).stdout;
      expect(listed).toMatch(/db\.pg-dump\/globals\.sql$/m);
      expect(listed).toMatch(/db\.pg-dump\/manifest\.json$/m);
      expect(listed).toMatch(/db\.pg-dump\/databases\/shop\/toc\.dat$/m);
      expect(replayState(cluster)).toBe('not paused');
      expect(cluster.repmgrd.running()).toBe(true);
      expect(spoolEntries(s.root)).toEqual([]);
      expect(fs.existsSync(path.join(s.root, STATE, 'db.pg-backup.marker.json'))).toBe(false);
      expect(statusOf(s.root)).toMatchObject({ result: 'success', exitCode: 0, snapshotId: snapshot!.id });
    },
  );

  // restic-systemd's own behaviour, the same with every restic: once.
  if (once)
    test(
      '--dry-run prints the plan (snapshot, its LSN, databases and sizes, what is created) and changes ' + 'nothing',
      () => {
        const to = `host=${cluster.base} port=${cluster.primaryPort}`;
        const result = s.cli('restore', 'db', '--database', 'shop', '--as', 'shop_plan', '--to', to, '--dry-run');
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toMatch(
          /restore from snapshot [0-9a-f]{8} of .* replay point [0-9A-F]+\/[0-9A-F]+ on timeline 1/,
        );
        expect(result.stdout).toMatch(/shop: [\d.]+ (KiB|MiB) of archive .* into a new database shop_plan/);
        expect(cluster.sql(cluster.primaryPort, "SELECT count(*) FROM pg_database WHERE datname = 'shop_plan'")).toBe(
          '0',
        );
      },
    );

  test(
    'one database comes back under a new name beside the live one: every table with the rows and ' +
      'checksum of the dump',
    () => {
      const to = `host=${cluster.base} port=${cluster.primaryPort}`;
      const result = s.cli('restore', 'db', '--database', 'shop', '--as', 'shop_back', '--to', to, '--jobs', '2');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/restored shop as shop_back: 4 tables, \d+ rows/);
      for (const table of TABLES)
        expect(cluster.sql(cluster.primaryPort, checksum(table), 'shop_back')).toBe(source(table));
      // Its own settings, comment and owner came with it, for the new name.
      expect(
        cluster.sql(
          cluster.primaryPort,
          "SELECT shobj_description(oid, 'pg_database') || ' ' || pg_get_userbyid(datdba) FROM pg_database " +
            "WHERE datname = 'shop_back'",
        ),
      ).toBe('the shop app');
      expect(
        cluster.sql(
          cluster.primaryPort,
          "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = " +
            "s.setdatabase WHERE datname = 'shop_back' AND setrole = 0",
        ),
      ).toBe('work_mem=8MB');
      expect(fs.readdirSync(path.join(s.root, STATE, 'restore'))).toEqual([]);
    },
  );

  // restic-systemd's own behaviour, the same with every restic: once.
  if (once)
    test(
      'an existing database is refused (27) and left as it is; with --replace it is renamed aside, ' + 'never dropped',
      () => {
        const to = `host=${cluster.base} port=${cluster.primaryPort}`;
        cluster.sql(cluster.primaryPort, 'CREATE DATABASE small_live');
        cluster.sql(cluster.primaryPort, 'CREATE TABLE marker(x int); INSERT INTO marker VALUES (42)', 'small_live');
        const refused = s.cli('restore', 'db', '--database', 'small', '--as', 'small_live', '--to', to);
        expect(refused.exitCode).toBe(27);
        expect(refused.stderr).toMatch(/already has a database named small_live; nothing was changed/);
        expect(cluster.sql(cluster.primaryPort, 'SELECT x FROM marker', 'small_live')).toBe('42');

        const replaced = s.cli('restore', 'db', '--database', 'small', '--as', 'small_live', '--to', to, '--replace');
        expect(replaced.exitCode).toBe(0);
        const aside = /renamed to (small_live_before_restore_\d{8}T\d{6})/.exec(replaced.stdout)?.[1];
        expect(aside).toBeDefined();
        expect(replaced.stdout).toContain(`DROP DATABASE "${aside}";`);
        expect(cluster.sql(cluster.primaryPort, 'SELECT count(*) FROM items', 'small_live')).toBe('500');
        expect(cluster.sql(cluster.primaryPort, 'SELECT x FROM marker', aside!)).toBe('42');
      },
    );

  test(
    'one table comes back into a new database with its indexes and constraints; a foreign key to what ' +
      'did not come is named',
    () => {
      const to = `host=${cluster.base} port=${cluster.primaryPort}`;
      const result = s.cli(
        'restore',
        'db',
        '--database',
        'shop',
        '--table',
        'shop.orders',
        '--as',
        'orders_back',
        '--to',
        to,
      );
      expect(result.exitCode).toBe(0);
      expect(cluster.sql(cluster.primaryPort, checksum('shop.orders'), 'orders_back')).toBe(source('shop.orders'));
      const indexes = cluster.sql(
        cluster.primaryPort,
        "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'shop'",
        'orders_back',
      );
      expect(indexes).toBe('orders_customer,orders_pkey');
      expect(
        cluster.sql(
          cluster.primaryPort,
          "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'shop'",
          'orders_back',
        ),
      ).toBe('1');
      expect(result.stdout).toMatch(/foreign key not restored .*orders_customer_id_fkey/);
    },
  );

  test('every database, with its roles, grants, settings and comments, comes back into a fresh cluster', () => {
    const fresh = freshCluster(cluster, 25712);
    try {
      const result = s.cli('restore', 'db', '--all-databases', '--replace', '--to', fresh.to);
      expect(result.exitCode).toBe(0);
      for (const table of TABLES) expect(fresh.sql('shop', checksum(table))).toBe(source(table));
      expect(fresh.sql('small', 'SELECT count(*) FROM items')).toBe('500');
      expect(fresh.sql('postgres', "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app'")).toBe('t');
      expect(fresh.sql('postgres', "SELECT pg_has_role('report reader', 'app', 'MEMBER')")).toBe('t');
      expect(fresh.sql('shop', "SELECT has_table_privilege('report reader', 'shop.orders', 'SELECT')")).toBe('t');
      expect(
        fresh.sql('postgres', "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'shop'"),
      ).toBe('the shop');
      expect(
        fresh.sql(
          'postgres',
          "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = " +
            "s.setrole WHERE rolname = 'app'",
        ),
      ).toBe('search_path=shop, public');
      // The fresh cluster's own postgres database was renamed aside, not dropped.
      expect(
        fresh.sql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'postgres_before_restore_%'"),
      ).toBe('1');
    } finally {
      fresh.stop();
    }
  });

  test(
    'a single-file SQL dump (PG_DUMP_FORMAT=sql) restores with the same command: one database under a ' +
      'new name, then all',
    () => {
      const sql = setup(cluster, release, { extra: 'PG_DUMP_FORMAT=sql' });
      expect(sql.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
      const to = `host=${cluster.base} port=${cluster.primaryPort}`;
      const one = sql.cli('restore', 'db', '--database', 'shop', '--as', 'shop_from_sql', '--to', to);
      expect(one.exitCode).toBe(0);
      for (const table of TABLES)
        expect(cluster.sql(cluster.primaryPort, checksum(table), 'shop_from_sql')).toBe(source(table));
      const fresh = freshCluster(cluster, 25713);
      try {
        const all = sql.cli('restore', 'db', '--all-databases', '--replace', '--to', fresh.to);
        expect(all.exitCode).toBe(0);
        expect(fresh.sql('shop', checksum('shop.orders'))).toBe(source('shop.orders'));
        expect(fresh.sql('postgres', "SELECT pg_has_role('report reader', 'app', 'MEMBER')")).toBe('t');
        const tableOnly = sql.cli(
          'restore',
          'db',
          '--database',
          'shop',
          '--table',
          'shop.orders',
          '--as',
          'x',
          '--to',
          to,
        );
        expect(tableOnly.exitCode).toBe(2);
        expect(tableOnly.stderr).toMatch(
          /one SQL file .* a schema or a table can only come back from a per-database archive/,
        );
      } finally {
        fresh.stop();
      }
    },
  );

  if (!once) return;

  test(
    "files: only this profile's snapshots of this host; a target another account can write is refused " +
      '(4); a new root folder by default',
    () => {
      const files = setup(cluster, release, { extra: 'BACKUP_PATHS=/data' });
      fs.mkdirSync(path.join(files.root, 'data/sub'), { recursive: true });
      fs.writeFileSync(path.join(files.root, 'data/sub/a.txt'), 'ours\n');
      expect(files.cli('run', 'backup', 'db').exitCode).toBe(0);
      // A newer snapshot of another host in the same repository: plain `latest` would be this one.
      const other = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-other-'));
      fs.writeFileSync(path.join(other, 'theirs.txt'), 'theirs\n');
      expect(files.restic('backup', '--host', 'otherhost', '--tag', 'profile:db,job:backup', other).exitCode).toBe(0);

      const hostile = path.join(files.root, 'tmp/hostile');
      fs.mkdirSync(hostile, { recursive: true });
      execFileSync('chown', ['nobody', hostile]);
      const refused = files.cli('restore', 'db', '--path', '/data', '--target', '/tmp/hostile');
      expect(refused.exitCode).toBe(4);
      expect(refused.stderr).toMatch(
        /belongs to uid \d+: restic would follow links another account plants there; nothing was restored/,
      );
      expect(fs.readdirSync(hostile)).toEqual([]);

      const restored = files.cli('restore', 'db', '--path', '/data/sub', '--target', '/root/back');
      expect(restored.exitCode).toBe(0);
      expect(restored.stdout).toMatch(/restored 1 files/);
      const back = path.join(files.root, 'root/back');
      expect((fs.statSync(back).mode & 0o777).toString(8)).toBe('700');
      const found = execFileSync('find', [back, '-type', 'f'], { encoding: 'utf8' });
      expect(found).toMatch(/data\/sub\/a\.txt$/m);
      expect(found).not.toMatch(/theirs/);
      const nothing = files.cli('restore', 'db', '--path', '/nowhere', '--target', '/root/none');
      expect(nothing.exitCode).toBe(2);
      expect(nothing.stderr).toMatch(/nothing of .*nowhere is in snapshot/);
      fs.rmSync(other, { recursive: true, force: true });
    },
  );

  test(
    'a restore SIGKILLed in pg_restore is undone by the next one (its database dropped, its ' +
      'work folder removed), which then succeeds',
    async () => {
      const to = `host=${cluster.base} port=${cluster.primaryPort}`;
      const slow = wrapper(cluster, 'slow-restore', `sleep 2\nexec ${PG_BIN}/pg_restore "$@"`);
      const job = startCli(s, ['restore', 'db', '--database', 'small', '--as', 'killed_restore', '--to', to], {
        PG_RESTORE_BIN: slow,
      });
      const created = () =>
        cluster.sql(cluster.primaryPort, "SELECT count(*) FROM pg_database WHERE datname = 'killed_restore'");
      for (let tries = 0; tries < 300 && created() !== '1'; tries++) await sleep(50);
      expect(created()).toBe('1');
      job.kill();
      await job.exited;
      expect(fs.existsSync(path.join(s.root, STATE, 'db.restore.marker.json'))).toBe(true);
      const again = s.cli('restore', 'db', '--database', 'small', '--as', 'killed_restore', '--to', to);
      expect(again.stderr).toMatch(/a restore of db .* did not finish: undoing what it changed/);
      expect(again.stderr).toMatch(/dropped the half-restored database killed_restore/);
      expect(again.exitCode).toBe(0);
      expect(cluster.sql(cluster.primaryPort, 'SELECT count(*) FROM items', 'killed_restore')).toBe('500');
      expect(fs.readdirSync(path.join(s.root, STATE, 'restore'))).toEqual([]);
      expect(fs.existsSync(path.join(s.root, STATE, 'db.restore.marker.json'))).toBe(false);
    },
  );

  test('a work folder without room for the archive: exit 26 before anything is changed', () => {
    const to = `host=${cluster.base} port=${cluster.primaryPort}`;
    const mount = path.join(s.root, STATE, 'restore');
    fs.mkdirSync(mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mount]);
    try {
      const result = s.cli('restore', 'db', '--database', 'shop', '--as', 'shop_no_room', '--to', to);
      expect(result.exitCode).toBe(26);
      expect(result.stderr).toMatch(/less than the [\d.]+ \w+ of the archives to restore .* nothing was changed/);
      expect(cluster.sql(cluster.primaryPort, "SELECT count(*) FROM pg_database WHERE datname = 'shop_no_room'")).toBe(
        '0',
      );
    } finally {
      spawnSync('umount', [mount]);
    }
  });

  test(
    'the restore drill restores every database of the archive in a scratch cluster, with exact rows ' +
      'and the recovery time',
    () => {
      const scratchBefore = scratchFolders();
      const result = s.cli('run', 'pg-verify', 'db');
      expect(result.exitCode).toBe(0);
      const status = statusOf(s.root, 'pg-verify');
      expect(status.message).toMatch(
        /restores into PostgreSQL \d+ in [\d.]+ s: 3 databases, .*shop: 4 tables, 92000 rows/,
      );
      expect(status.recoverySeconds).toBeGreaterThan(0);
      expect(newScratchFoldersLeft(scratchBefore)).toEqual([]);
    },
  );

  describe('faults of the dump', () => {
    test(
      'F1: pointed at the primary it exits 20 and nothing is written; F2: replay paused by someone ' +
        'else: 21, left paused',
      () => {
        const primary = setup(cluster, release, { port: cluster.primaryPort });
        expect(primary.cli('run', 'pg-backup', 'db').exitCode).toBe(20);
        expect(spoolEntries(primary.root)).toEqual([]);
        cluster.sql(cluster.standbyPort, 'SELECT pg_wal_replay_pause()');
        try {
          const paused = s.cli('run', 'pg-backup', 'db');
          expect(paused.exitCode).toBe(21);
          expect(replayState(cluster)).toBe('paused');
        } finally {
          cluster.sql(cluster.standbyPort, 'SELECT pg_wal_replay_resume()');
        }
      },
    );

    test(
      'F3: a pg_dump that fails half-way: exit 22, replay resumed, repmgrd back, no snapshot, no ' + 'archive left',
      () => {
        const before = s.snapshots().length;
        const failing = wrapper(
          cluster,
          'failing-dump',
          `case "$*" in *dbname=\\'shop\\'*) echo "pg_dump: error: injected" >&2; exit 1;; esac\nexec ` +
            `${PG_BIN}/pg_dump "$@"`,
        );
        const failed = runCli(['--root', s.root, 'run', 'pg-backup', 'db'], { ...s.env, PG_DUMP_BIN: failing });
        expect(failed.exitCode).toBe(22);
        expect(failed.stderr).toMatch(/pg_dump of shop failed/);
        expect(replayState(cluster)).toBe('not paused');
        expect(cluster.repmgrd.running()).toBe(true);
        expect(s.snapshots().length).toBe(before);
        expect(spoolEntries(s.root)).toEqual([]);
      },
    );

    test('F4: a wrong repository password: exit 12 before anything is paused', () => {
      const wrong = setup(cluster, release);
      fs.writeFileSync(path.join(wrong.root, 'etc/restic/db.password'), 'not-the-password\n');
      const result = wrong.cli('run', 'pg-backup', 'db');
      expect(result.exitCode).toBe(12);
      expect(replayState(cluster)).toBe('not paused');
    });

    test(
      "SIGKILL mid-dump, then pg-cleanup (the unit's ExecStopPost): replay resumed, repmgrd " +
        'back, the archive removed',
      async () => {
        const slow = wrapper(cluster, 'slow-dump', `sleep 3\nexec ${PG_BIN}/pg_dump "$@"`);
        const job = startCli(s, ['run', 'pg-backup', 'db'], { PG_DUMP_BIN: slow });
        for (let tries = 0; tries < 100 && replayState(cluster) !== 'paused'; tries++) await sleep(100);
        await sleep(500);
        job.kill();
        await job.exited;
        expect(replayState(cluster)).toBe('paused');
        const cleanup = runCli(['--root', s.root, 'run', 'pg-cleanup', 'db'], s.env);
        expect(cleanup.exitCode).toBe(0);
        expect(replayState(cluster)).toBe('not paused');
        expect(cluster.repmgrd.running()).toBe(true);
        expect(spoolEntries(s.root)).toEqual([]);
      },
    );

    test('a spool folder too small for the databases: exit 26 before anything is paused', () => {
      const small = setup(cluster, release, { extra: 'PG_SPOOL_DIR=/srv/small-spool' });
      const mount = path.join(small.root, 'srv/small-spool');
      fs.mkdirSync(mount, { recursive: true, mode: 0o700 });
      const image = path.join(os.tmpdir(), `restic-systemd-small-${process.pid}.img`);
      execFileSync('truncate', ['-s', '4M', image]);
      execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
      execFileSync('mount', ['-o', 'loop', image, mount]);
      try {
        fs.chmodSync(mount, 0o700);
        const result = small.cli('run', 'pg-backup', 'db');
        expect(result.exitCode).toBe(26);
        expect(replayState(cluster)).toBe('not paused');
      } finally {
        spawnSync('umount', [mount]);
        fs.rmSync(image, { force: true });
      }
    });

    test('F5: the standby promoted while the databases are dumped: exit 24, no snapshot, no archive', async () => {
      const before = s.snapshots().length;
      const slow = wrapper(cluster, 'slow-dump-2', `sleep 2\nexec ${PG_BIN}/pg_dump "$@"`);
      const job = startCli(s, ['run', 'pg-backup', 'db'], { PG_DUMP_BIN: slow });
      for (let tries = 0; tries < 100 && replayState(cluster) !== 'paused'; tries++) await sleep(100);
      cluster.promoteStandby();
      expect(await job.exited).toBe(24);
      expect(s.snapshots().length).toBe(before);
      expect(spoolEntries(s.root)).toEqual([]);
    });
  });
});
