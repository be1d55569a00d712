/**
 * PostgreSQL's text forms that restic-systemd writes itself: quoted identifiers and literals, and
 * libpq connection strings (the `--to` of restore). Pure: nothing is run or read here.
 */

/** An identifier, always quoted: "we ird" → "we ird", a"b → "a""b". */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal: it's → 'it''s' (standard_conforming_strings, as every supported server has it). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** One value of a libpq connection string, quoted: 'a b', 'it\'s'. */
function conninfoValue(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** The keywords of a libpq connection string (libpq's own list, PostgreSQL 15 to 18). */
const CONNINFO_KEYWORDS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'channel_binding',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslmode',
  'requiressl',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslcertmode',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'requirepeer',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'service',
  'target_session_attrs',
  'load_balance_hosts',
  'require_auth',
  'sslnegotiation',
  'scram_client_key',
  'scram_server_key',
  'min_protocol_version',
  'max_protocol_version',
]);

/** Keywords `--to` may not set: restic-systemd chooses the database, and a password belongs in a passfile. */
const CHOSEN_BY_RESTORE = new Set(['dbname', 'replication', 'password']);

/**
 * A connection string (`host=/run/postgresql port=5432`) as keyword/value pairs, or the reason it
 * is refused. Only the keyword=value form: a URI (postgresql://…) names a database of its own.
 */
export function parseConninfo(text: string): { pairs: Array<[string, string]> } | { problem: string } {
  const pairs: Array<[string, string]> = [];
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  skipSpace();
  if (/^postgres(ql)?:\/\//.test(text)) {
    return { problem: 'give keyword=value pairs, such as "host=/var/run/postgresql port=5432", not a URI' };
  }
  while (at < text.length) {
    const keyword = /^[a-z_]+/.exec(text.slice(at))?.[0];
    if (!keyword) return { problem: `expected a keyword at ${JSON.stringify(text.slice(at, at + 20))}` };
    at += keyword.length;
    skipSpace();
    if (text[at] !== '=') return { problem: `"${keyword}" has no "=" after it` };
    at++;
    skipSpace();
    let value = '';
    if (text[at] === "'") {
      at++;
      for (;;) {
        if (at >= text.length) return { problem: `the quoted value of "${keyword}" is not closed` };
        const character = text[at++]!;
        if (character === "'") break;
        value += character === '\\' && at < text.length ? text[at++]! : character;
      }
    } else {
      while (at < text.length && !/\s/.test(text[at]!)) {
        const character = text[at++]!;
        value += character === '\\' && at < text.length ? text[at++]! : character;
      }
    }
    if (!CONNINFO_KEYWORDS.has(keyword)) return { problem: `"${keyword}" is not a libpq connection keyword` };
    if (CHOSEN_BY_RESTORE.has(keyword)) {
      const why =
        keyword === 'password'
          ? 'a password on the command line is seen by every account (ps): use passfile=<a 0600 file> or ~/.pgpass'
          : 'restic-systemd chooses it for each database it restores';
      return { problem: `"${keyword}" cannot be given: ${why}` };
    }
    pairs.push([keyword, value]);
    skipSpace();
  }
  if (pairs.length === 0) return { problem: 'it is empty: give at least host=… (a socket folder or a host name)' };
  return { pairs };
}

/** The connection string of `pairs` connected to `database`. */
export function conninfoFor(pairs: ReadonlyArray<[string, string]>, database: string): string {
  return [...pairs, ['dbname', database] as const].map(([key, value]) => `${key}=${conninfoValue(value)}`).join(' ');
}

/** A connection string's pairs as an operator would read them (no password is ever among them). */
export function showConninfo(pairs: ReadonlyArray<[string, string]>): string {
  return pairs.map(([key, value]) => `${key}=${/^[^\s'\\]+$/.test(value) ? value : conninfoValue(value)}`).join(' ');
}
