/**
 * The data set of the restore benchmark: several databases with primary keys, secondary indexes and
 * foreign keys, as the notes postgres-formats.md measured the raw tools on. `shop` has four
 * tables (customers, orders, order_items, events; 4 primary keys, 8 secondary indexes, 4 foreign
 * keys) and is most of the dump; `app` (sessions) holds about 5 % of the cluster; `small` (items) is
 * small. At scale 1 the SQL of pg_dumpall is 1.19 GB; the benchmark scales every table alike.
 * Written on the primary with INSERT … SELECT generate_series, the keys and indexes built after the
 * rows (as a restore builds them), then read on the standby once it has caught up.
 */
import { execFileSync } from 'node:child_process';
import type { PgCluster } from '../test/helpers/pg-cluster.js';
import { newPgEnv, waitForStandby } from './database.js';

/** The rows of each table at scale 1 (the notes' data set). */
const FULL_ROWS = {
  customers: 500_000,
  orders: 4_000_000,
  events: 3_000_000,
  items: 100_000,
  sessions: 1_000_000,
};

export interface DataSetRows {
  customers: number;
  orders: number;
  /** Two items an order: order_items.order_id stays within orders. */
  orderItems: number;
  events: number;
  items: number;
  sessions: number;
}

/** The databases of the data set and their tables (all in the schema public). */
export const DATABASES = {
  shop: ['customers', 'orders', 'order_items', 'events'],
  small: ['items'],
  app: ['sessions'],
} as const;
export type DataSetDatabase = keyof typeof DATABASES;
/** The database one restore brings back, and the one holding about 5 % of the cluster. */
export const BIG_DATABASE: DataSetDatabase = 'shop';
export const FEW_PERCENT_DATABASE: DataSetDatabase = 'app';
/** Left out of every dump, as the test suite does: its metadata describes the cluster it came from. */
export const EXCLUDED_DATABASE = 'repmgr';

export function dataSetRows(scale: number): DataSetRows {
  const rows = (full: number) => Math.max(10, Math.round(full * scale));
  const orders = rows(FULL_ROWS.orders);
  return {
    customers: rows(FULL_ROWS.customers),
    orders,
    orderItems: 2 * orders,
    events: rows(FULL_ROWS.events),
    items: rows(FULL_ROWS.items),
    sessions: rows(FULL_ROWS.sessions),
  };
}

/** Events with ids from..to: a JSON-like payload of about 150 characters, an order for every third. */
function eventsInsert(rows: DataSetRows, from: number, to: number): string {
  return (
    `INSERT INTO events SELECT g, 1 + (g * 7919) % ${rows.customers}, ` +
    `CASE WHEN g % 3 = 0 THEN 1 + (g * 31) % ${rows.orders} END, ` +
    `(ARRAY['page_view','click','add_to_cart','checkout','login','search'])[1 + g % 6], ` +
    `timestamptz '2020-01-01' + g * interval '17 seconds', ` +
    `'{"ip":"10.' || g % 250 || '.' || (g / 250) % 250 || '.' || (g * 7) % 250 || ` +
    `'","ua":"Mozilla/5.0 (X11; Linux x86_64) Firefox/' || 90 + g % 40 || '.0","path":"/p/' || ` +
    `(g * 104729) % 20000 || '","session":"' || md5(g::text) || '","ref":"' || substr(md5((g * 3)::text), 1, 16) || ` +
    `'"}' FROM generate_series(${from}::bigint, ${to}) g`
  );
}

/** The statements that fill `shop`, one transaction each, then its keys, indexes and foreign keys. */
function shopStatements(rows: DataSetRows): string[] {
  return [
    'CREATE TABLE customers(id bigint, name text, email text, country char(2), created_at timestamptz); ' +
      'CREATE TABLE orders(id bigint, customer_id bigint, status text, total numeric(12,2), created_at timestamptz); ' +
      'CREATE TABLE order_items(id bigint, order_id bigint, product_id int, qty int, price numeric(10,2)); ' +
      'CREATE TABLE events(id bigint, customer_id bigint, order_id bigint, kind text, created_at timestamptz, ' +
      'payload text)',
    `INSERT INTO customers SELECT g, 'Customer ' || g, ` +
      `'user' || g || '@example.' || (ARRAY['com','org','net','de'])[1 + g % 4], ` +
      `(ARRAY['DE','FR','US','GB','NL','IT','ES','PL'])[1 + (g * 7) % 8], ` +
      `timestamptz '2019-01-01' + g * interval '61 seconds' FROM generate_series(1::bigint, ${rows.customers}) g`,
    `INSERT INTO orders SELECT g, 1 + (g * 7919) % ${rows.customers}, ` +
      `(ARRAY['new','paid','shipped','done','cancelled'])[1 + (g * 13) % 5], ((g * 37) % 100000) / 100.0, ` +
      `timestamptz '2020-01-01' + g * interval '13 seconds' FROM generate_series(1::bigint, ${rows.orders}) g`,
    `INSERT INTO order_items SELECT g, 1 + (g - 1) / 2, 1 + (g * 104729) % 20000, 1 + g % 5, ` +
      `((g * 31) % 50000) / 100.0 FROM generate_series(1::bigint, ${rows.orderItems}) g`,
    eventsInsert(rows, 1, rows.events),
    'ALTER TABLE customers ADD PRIMARY KEY (id); ALTER TABLE orders ADD PRIMARY KEY (id); ' +
      'ALTER TABLE order_items ADD PRIMARY KEY (id); ALTER TABLE events ADD PRIMARY KEY (id)',
    'CREATE UNIQUE INDEX customers_email ON customers(email); CREATE INDEX customers_country ON customers(country); ' +
      'CREATE INDEX orders_customer ON orders(customer_id); CREATE INDEX orders_created ON orders(created_at); ' +
      'CREATE INDEX order_items_order ON order_items(order_id); ' +
      'CREATE INDEX order_items_product ON order_items(product_id); ' +
      'CREATE INDEX events_customer ON events(customer_id); CREATE INDEX events_created ON events(created_at)',
    'ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers(id); ' +
      'ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders(id); ' +
      'ALTER TABLE events ADD FOREIGN KEY (customer_id) REFERENCES customers(id); ' +
      'ALTER TABLE events ADD FOREIGN KEY (order_id) REFERENCES orders(id)',
  ];
}

function smallStatements(rows: DataSetRows): string[] {
  return [
    'CREATE TABLE items(id bigint PRIMARY KEY, name text, qty int)',
    `INSERT INTO items SELECT g, 'item ' || g, g % 100 FROM generate_series(1::bigint, ${rows.items}) g`,
  ];
}

function appStatements(rows: DataSetRows): string[] {
  return [
    'CREATE TABLE sessions(id bigint PRIMARY KEY, user_id int, token text, started timestamptz)',
    `INSERT INTO sessions SELECT g, (g * 7) % 50000, md5(g::text), ` +
      `timestamptz '2024-01-01' + g * interval '7 seconds' ` +
      `FROM generate_series(1::bigint, ${rows.sessions}) g`,
    'CREATE INDEX sessions_user ON sessions(user_id)',
  ];
}

/** Create and fill the three databases on the primary; returns once the standby has replayed all of it. */
export function loadDataSet(cluster: PgCluster, rows: DataSetRows, log: (line: string) => void): void {
  const primary = (statement: string, database = 'postgres') => cluster.sql(cluster.primaryPort, statement, database);
  // Fewer checkpoints while loading (the notes did the same); the standby's settings are left as they are.
  primary("ALTER SYSTEM SET max_wal_size = '4GB'");
  primary('SELECT pg_reload_conf()');
  const statements: Record<DataSetDatabase, string[]> = {
    shop: shopStatements(rows),
    small: smallStatements(rows),
    app: appStatements(rows),
  };
  for (const [database, list] of Object.entries(statements)) {
    const started = Date.now();
    primary(`CREATE DATABASE ${database}`);
    for (const statement of list) primary(statement, database);
    primary('VACUUM ANALYZE', database);
    log(`  ${database} loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  waitForStandby(cluster);
}

/** A day of changes, as the notes measured growth with: 0.5 % of the orders updated, scattered, and 1 % more events. */
export function applyDayOfChanges(cluster: PgCluster, rows: DataSetRows): string {
  const appended = Math.max(1, Math.round(rows.events / 100));
  cluster.sql(
    cluster.primaryPort,
    "UPDATE orders SET status = 'refunded', total = total + 1 WHERE id % 200 = 0",
    BIG_DATABASE,
  );
  cluster.sql(cluster.primaryPort, eventsInsert(rows, rows.events + 1, rows.events + appended), BIG_DATABASE);
  waitForStandby(cluster);
  const updated = Math.floor(rows.orders / 200);
  return `${updated} of the orders updated, scattered (0.5 %), and ${appended} events added (1 %)`;
}

/**
 * What a restored database must hold, as one line: the rows of its tables, its indexes and its foreign
 * keys. Compared between the source (the standby) and every restore.
 */
export function shapeQuery(database: DataSetDatabase): string {
  const rows = DATABASES[database].map((table) => `(SELECT count(*) FROM public.${table})`).join(' + ');
  return (
    `SELECT ${rows} || ' rows, ' || (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') || ` +
    `' indexes, ' || (SELECT count(*) FROM pg_constraint WHERE contype = 'f') || ' foreign keys'`
  );
}

export interface DatabaseFacts {
  name: string;
  tables: number;
  /** "N rows, N indexes, N foreign keys" */
  shape: string;
  /** pg_database_size on the standby. */
  bytes: number;
}

export interface DataSetFacts {
  rows: DataSetRows;
  /** pg_dumpall --clean --if-exists of every dumped database, on the standby. */
  sqlBytes: number;
  databases: DatabaseFacts[];
  /** pg_database_size of every database the dumps hold (postgres too). */
  clusterBytes: number;
}

/** The `pg_dumpall` of the benchmark, as the SQL-format job runs it (the same databases left out). */
export const PG_DUMPALL =
  'runuser -u postgres -- pg_dumpall --clean --if-exists ' + `--exclude-database=${EXCLUDED_DATABASE}`;

/** The sizes of the data set as the standby has it. */
export function dataSetFacts(cluster: PgCluster, rows: DataSetRows): DataSetFacts {
  const standby = (statement: string, database = 'postgres') => cluster.sql(cluster.standbyPort, statement, database);
  const sqlBytes = Number(
    execFileSync('bash', ['-o', 'pipefail', '-c', `${PG_DUMPALL} | wc -c`], {
      env: newPgEnv(cluster),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim(),
  );
  const databases = (Object.keys(DATABASES) as DataSetDatabase[]).map((name) => ({
    name,
    tables: DATABASES[name].length,
    shape: standby(shapeQuery(name), name),
    bytes: Number(standby(`SELECT pg_database_size('${name}')`)),
  }));
  const clusterBytes = Number(
    standby(
      'SELECT sum(pg_database_size(datname)) FROM pg_database ' +
        `WHERE datallowconn AND NOT datistemplate AND datname <> '${EXCLUDED_DATABASE}'`,
    ),
  );
  return { rows, sqlBytes, databases, clusterBytes };
}
