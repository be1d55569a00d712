/**
 * The table of contents of a PostgreSQL archive as `pg_restore --list` prints it, and the entries
 * a selective restore keeps (one schema, or one table with what belongs to it). Each line is
 * `<id>; <tableoid> <oid> <desc> <namespace> <tag> <owner>`; desc has words of its own ("TABLE
 * DATA", "FK CONSTRAINT"), so it is matched against the known kinds, longest first.
 */

export interface ArchiveEntry {
  /** The whole line, as pg_restore --use-list reads it back. */
  line: string;
  desc: string;
  /** What follows desc: "<namespace> <tag> <owner>". */
  rest: string;
}

const KINDS = [
  'DATABASE PROPERTIES',
  'DATABASE',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'SEQUENCE',
  'TABLE DATA',
  'TABLE ATTACH',
  'TABLE',
  'FK CONSTRAINT',
  'CHECK CONSTRAINT',
  'CONSTRAINT',
  'INDEX ATTACH',
  'INDEX',
  'MATERIALIZED VIEW DATA',
  'MATERIALIZED VIEW',
  'VIEW',
  'TRIGGER',
  'DEFAULT ACL',
  'DEFAULT',
  'ACL',
  'COMMENT',
  'SECURITY LABEL',
  'SCHEMA',
  'EXTENSION',
  'FUNCTION',
  'PROCEDURE',
  'AGGREGATE',
  'TYPE',
  'DOMAIN',
  'RULE',
  'POLICY',
  'ROW SECURITY',
  'STATISTICS EXPORT',
  'STATISTICS DATA',
  'STATISTICS',
  'PUBLICATION TABLE',
  'PUBLICATION',
  'SUBSCRIPTION',
  'LARGE OBJECT',
  'BLOB',
  'BLOBS',
  'ENCODING',
  'STDSTRINGS',
  'SEARCHPATH',
].sort((a, b) => b.length - a.length);

/** The entries of `pg_restore --list` output (comment and empty lines left out). */
export function readArchiveList(text: string): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  for (const line of text.split('\n')) {
    const head = /^\d+; \d+ \d+ /.exec(line);
    if (!head) continue;
    const after = line.slice(head[0].length);
    const desc = KINDS.find((kind) => after.startsWith(`${kind} `)) ?? after.split(' ')[0]!;
    entries.push({ line, desc, rest: after.slice(desc.length + 1) });
  }
  return entries;
}

/** The entries that make the database itself (create it, its comment, settings and grants). */
export function databaseEntries(entries: readonly ArchiveEntry[]): ArchiveEntry[] {
  return entries.filter(
    (entry) =>
      entry.desc === 'DATABASE' ||
      entry.desc === 'DATABASE PROPERTIES' ||
      (['COMMENT', 'ACL', 'SECURITY LABEL'].includes(entry.desc) && entry.rest.startsWith('- DATABASE ')),
  );
}

export interface Selection {
  /** Restored first, with --exit-on-error. */
  entries: ArchiveEntry[];
  /** Foreign keys, restored last: one pointing at a table that is not restored may fail, and is said. */
  foreignKeys: ArchiveEntry[];
  /** The tables whose rows are restored, as "schema.table". */
  tables: string[];
}

const tableOf = (entry: ArchiveEntry) => entry.rest.split(' ').slice(0, 2).join('.');

/** The entries that make a schema itself (create it, its comment and grants). */
export function schemaEntries(entries: readonly ArchiveEntry[], schema: string): ArchiveEntry[] {
  return entries.filter(
    (entry) =>
      (entry.desc === 'SCHEMA' && entry.rest.startsWith(`- ${schema} `)) ||
      (['COMMENT', 'ACL', 'SECURITY LABEL'].includes(entry.desc) && entry.rest.startsWith(`- SCHEMA ${schema} `)),
  );
}

/** Every object of one schema, and the schema itself. */
export function selectSchema(entries: readonly ArchiveEntry[], schema: string): Selection {
  const inSchema = (entry: ArchiveEntry) =>
    entry.rest.startsWith(`${schema} `) ||
    (entry.desc === 'SCHEMA' && entry.rest.startsWith(`- ${schema} `)) ||
    (['COMMENT', 'ACL', 'SECURITY LABEL'].includes(entry.desc) && entry.rest.startsWith(`- SCHEMA ${schema} `));
  const chosen = entries.filter(inSchema);
  return {
    entries: chosen.filter((entry) => entry.desc !== 'FK CONSTRAINT'),
    foreignKeys: chosen.filter((entry) => entry.desc === 'FK CONSTRAINT'),
    tables: chosen.filter((entry) => entry.desc === 'TABLE DATA').map(tableOf),
  };
}

/**
 * One table: its definition and rows, its constraints, triggers, defaults, grants and comments,
 * the indexes on it (`indexesOnTable`: the names, read from their definitions) and the sequences
 * it owns (`ownedSequences`).
 */
export function selectTable(
  entries: readonly ArchiveEntry[],
  schema: string,
  table: string,
  related: { indexesOnTable: readonly string[]; ownedSequences: readonly string[] },
): Selection {
  const own = `${schema} ${table} `;
  const belongs = (entry: ArchiveEntry) => {
    switch (entry.desc) {
      case 'TABLE':
      case 'TABLE DATA':
      case 'CONSTRAINT':
      case 'CHECK CONSTRAINT':
      case 'FK CONSTRAINT':
      case 'TRIGGER':
      case 'DEFAULT':
      case 'POLICY':
      case 'RULE':
      case 'STATISTICS DATA':
        return entry.rest.startsWith(own);
      case 'ACL':
      case 'COMMENT':
      case 'SECURITY LABEL':
        return (
          entry.rest.startsWith(`${schema} TABLE ${table} `) || entry.rest.startsWith(`${schema} COLUMN ${table}.`)
        );
      case 'INDEX':
        return related.indexesOnTable.some((index) => entry.rest.startsWith(`${schema} ${index} `));
      case 'SEQUENCE':
      case 'SEQUENCE OWNED BY':
      case 'SEQUENCE SET':
        return related.ownedSequences.some((sequence) => entry.rest.startsWith(`${schema} ${sequence} `));
      default:
        return false;
    }
  };
  const chosen = entries.filter(belongs);
  return {
    entries: chosen.filter((entry) => entry.desc !== 'FK CONSTRAINT'),
    foreignKeys: chosen.filter((entry) => entry.desc === 'FK CONSTRAINT'),
    tables: chosen.filter((entry) => entry.desc === 'TABLE DATA').map(tableOf),
  };
}

// A name as pg_dump writes it: bare, or double-quoted with "" for a quote.
const NAME = String.raw`(?:"(?:[^"]|"")+"|[^\s."]+)`;
const QUALIFIED = `${NAME}(?:\\.${NAME})*`;

/** The parts of a qualified name as pg_dump writes it: s1."my table" → ["s1", "my table"]. */
export function nameParts(text: string): string[] {
  return [...text.matchAll(new RegExp(NAME, 'g'))].map((match) => unquote(match[0]));
}

const sameName = (text: string, parts: readonly string[]) => {
  const read = nameParts(text);
  return read.length === parts.length && read.every((part, index) => part === parts[index]);
};

/** The index names of `CREATE INDEX` statements (pg_restore's SQL of INDEX entries) that are on schema.table. */
export function indexesOn(indexSql: string, schema: string, table: string): string[] {
  const statement = new RegExp(`^CREATE (?:UNIQUE )?INDEX (${NAME}) ON (?:ONLY )?(${QUALIFIED}) USING `, 'gm');
  return [...indexSql.matchAll(statement)]
    .filter((match) => sameName(match[2]!, [schema, table]))
    .map((match) => unquote(match[1]!));
}

/** The sequences `ALTER SEQUENCE … OWNED BY schema.table.column` statements tie to schema.table. */
export function sequencesOwnedBy(ownedBySql: string, schema: string, table: string): string[] {
  const statement = new RegExp(`^ALTER SEQUENCE (${QUALIFIED}) OWNED BY (${QUALIFIED});$`, 'gm');
  return [...ownedBySql.matchAll(statement)]
    .filter((match) => isOwnedBy(match[2]!, schema, table))
    .map((match) => nameParts(match[1]!).at(-1)!);
}

function isOwnedBy(column: string, schema: string, table: string): boolean {
  const parts = nameParts(column);
  return parts.length === 3 && parts[0] === schema && parts[1] === table;
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name;
}

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** The database's own SQL (pg_restore --create of its DATABASE entries) for another name: `to`. */
export function renameDatabaseSql(sql: string, from: string, to: string): string {
  const quoted = `"${from.replaceAll('"', '""')}"`;
  const written = `(?:${escapeRegExp(quoted)}${/^[a-z_][a-z0-9_$]*$/.test(from) ? `|${escapeRegExp(from)}` : ''})`;
  const target = `"${to.replaceAll('"', '""')}"`;
  const statement = new RegExp(
    String.raw`^((?:CREATE|ALTER) DATABASE |COMMENT ON DATABASE |SECURITY LABEL (?:FOR \S+ )?ON DATABASE |` +
      `ALTER ROLE ${NAME} IN DATABASE |(?:GRANT|REVOKE) .* ON DATABASE )${written}(?=[ ;])`,
  );
  const conninfo = `dbname='${to.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return sql
    .split('\n')
    .map((line) =>
      line.startsWith('\\connect ')
        ? `\\connect -reuse-previous=on "${conninfo.replaceAll('"', '""')}"`
        : line.replace(statement, (_, head: string) => `${head}${target}`),
    )
    .join('\n');
}
