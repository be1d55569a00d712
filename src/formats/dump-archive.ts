/**
 * The per-database archive dump as it is stored in restic (PG_DUMP_FORMAT=directory): one folder
 * holding the cluster's globals, one pg_dump directory archive per database, all taken at one
 * replay point, and a manifest saying what is where. Pure: names, the manifest's text and its check.
 *
 *   <name>.pg-dump/manifest.json
 *   <name>.pg-dump/globals.sql                  pg_dumpall --globals-only
 *   <name>.pg-dump/databases/<encoded name>/    pg_dump --format=directory --create
 */

export const MANIFEST_FILE = 'manifest.json';
export const GLOBALS_FILE = 'globals.sql';
export const DATABASES_FOLDER = 'databases';
export const ARCHIVE_FORMAT = 'restic-systemd per-database archive';

/** A database name as one file name and one restic tag: [A-Za-z0-9_-] and inner "." kept, any other byte as %XX. */
export function encodeDatabaseName(name: string): string {
  return [...Buffer.from(name, 'utf8')]
    .map((byte, index) => {
      const character = String.fromCharCode(byte);
      const plain = /[A-Za-z0-9_-]/.test(character) || (character === '.' && index > 0);
      return plain && byte < 0x80 ? character : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

export function decodeDatabaseName(encoded: string): string {
  return Buffer.from(
    encoded.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}

export interface ArchiveDatabase {
  name: string;
  /** Relative to the archive's folder: databases/<encoded name>. */
  folder: string;
  /** The database's size on the server when it was dumped. */
  bytes: number;
  /** The size of its archive. */
  archiveBytes: number;
  /** pg_dump's parallel jobs, and how long it took. */
  jobs: number;
  seconds: number;
}

export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  version: 1;
  profile: string;
  host: string;
  /** When the dump began (replay paused), ISO. */
  taken: string;
  /** standby: every database at one replay point; primary: PG_ON_PRIMARY=dump, each database on its own. */
  source: 'standby' | 'primary';
  lsn: string | null;
  timeline: string | null;
  replayedUntil: string | null;
  serverMajor: number;
  globals: string;
  databases: ArchiveDatabase[];
}

/** The manifest's text, as it is written into the archive. */
export function manifestText(manifest: ArchiveManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Read a manifest; the reason when the text is not one this release can restore from. */
export function readManifest(text: string): ArchiveManifest | { problem: string } {
  let manifest: Partial<ArchiveManifest>;
  try {
    manifest = JSON.parse(text) as Partial<ArchiveManifest>;
  } catch {
    return { problem: `${MANIFEST_FILE} is not JSON` };
  }
  if (manifest.format !== ARCHIVE_FORMAT) return { problem: `${MANIFEST_FILE} is not a manifest of restic-systemd` };
  if (manifest.version !== 1) {
    return { problem: `${MANIFEST_FILE} is of version ${manifest.version}: restore it with a newer restic-systemd` };
  }
  const databases = manifest.databases;
  const valid =
    Array.isArray(databases) &&
    databases.every(
      (database) =>
        typeof database?.name === 'string' &&
        database.folder === `${DATABASES_FOLDER}/${encodeDatabaseName(database.name)}` &&
        typeof database.archiveBytes === 'number',
    );
  if (!valid) return { problem: `${MANIFEST_FILE} lists its databases in a form this release does not know` };
  return manifest as ArchiveManifest;
}
