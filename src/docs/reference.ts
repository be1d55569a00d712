/**
 * The reference generated from the code: docs/profile.md from the field table, docs/exit-codes.md
 * from the exit-code table, and the reference part of docs/commands.md (between its markers) from
 * the command catalog. `npm run docs` writes them; a test fails when the committed pages differ
 * from what the code says.
 */
import { GLOBAL_OPTIONS, VISIBLE_COMMANDS, type CommandSpec, type OptionSpec } from '../commands/catalog.js';
import { EXIT_CODES } from '../errors.js';
import { FIELD_KEYS, FIELDS, OWN_PREFIXES, type Field, type FieldGroup } from '../profile/fields.js';

const GROUP_TITLES: Record<FieldGroup, string> = {
  repository: "Repository and password (restic's own variables)",
  backup: 'The restic@ backup job',
  database: 'The pg-backup@ database job',
  notify: 'Notifications',
};

const OWNERS: Record<Field<unknown>['owner'], string> = {
  restic: 'restic',
  libpq: 'libpq',
  'restic-systemd': 'restic-systemd',
};

/** Text for a table cell: no pipe or newline, and <words> outside code spans kept visible (not read as HTML). */
function cell(text: string): string {
  return text
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ')
    .split('`')
    .map((part, index) => (index % 2 === 0 ? part.replace(/<([\w.-]+)>/g, '&lt;$1&gt;') : part))
    .join('`');
}

export function profileReference(): string {
  const lines = [
    '# Profile reference',
    '',
    '<!-- Generated from src/profile/fields.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'A profile is `/etc/restic/<name>.conf` (or `<config-dir>/<name>.conf`): one `KEY=VALUE` per line,',
    "read by systemd as the units' `EnvironmentFile=` and by restic-systemd itself. Lines starting with",
    '`#` or `;` are comments. A value may be quoted with `"…"` or `\'…\'` as a whole.',
    '',
    "Refused, because systemd, `ini` and the guide's `while read … export` loop would read them",
    'differently: an unquoted `#` or `;` inside a value, backslashes, spaces around `=` or after the',
    'value, `export KEY=…`, a comment after a closing quote (`KEY="value"  # note`: systemd keeps it in',
    'the value), a value continued over lines with a trailing backslash, `[section]` headers, a key set',
    'twice, CRLF line endings, a byte-order mark, and anything that is not UTF-8 text.',
    '',
    'Variables not listed here (other `RESTIC_*` settings, backend credentials such as `AWS_*` or',
    "`B2_*`, libpq's other `PG*` variables) are passed to restic and PostgreSQL untouched. A key that",
    `starts with ${OWN_PREFIXES.map((prefix) => `\`${prefix}\``).join(' or ')} must be one of ` +
      `restic-systemd's own; a misspelling of one is refused`,
    'with the key meant (`BACKUP_KEEP_DAYLY`: did you mean `BACKUP_KEEP_DAILY`?).',
    '',
    'Keys that other layouts use for what to back up, what to leave out and how long to keep it',
    '(`RESTIC_BACKUP_PATHS`, `BACKUP_DIR`, `BACKUP_EXCLUDES`, `RETENTION_DAYS`, `RESTIC_FORGET_ARGS`,',
    '`RESTIC_RETENTION_POLICY`…) are refused: neither restic nor restic-systemd reads them, so the job',
    'would back up and keep something else. The message gives the `restic-systemd import` command that',
    'translates the file ([migration](migration.md)). A `RESTIC_*` name restic does not read, and a key',
    'that looks like a backup setting but nothing reads, are warnings of `validate` and `install`.',
    '',
    '## Which jobs a profile runs',
    '',
    '| job | its timer | switched on when | switched off when |',
    '| --- | --- | --- | --- |',
    '| file backup (`restic-systemd run backup`) | `restic@<name>.timer`, `BACKUP_SCHEDULE` | the profile ' +
      "sets `BACKUP_PATHS`, or configures no database (it then backs up `/media/<name>`, the guide's volume) | " +
      'the profile configures a database and sets no `BACKUP_PATHS`: a database-only profile |',
    '| maintenance (`run maintenance`: prune, check) | `restic-maintenance@<name>.timer`, ' +
      '`BACKUP_MAINTENANCE_SCHEDULE` | always: every profile writes to a repository | never |',
    '| database dump (`run pg-backup`) | `pg-backup@<name>.timer`, `PG_BACKUP_SCHEDULE` | any key starting ' +
      'with `PG` (a libpq variable such as `PGHOST`, or a `PG_` key) | no such key |',
    '| restore drill (`run pg-verify`) | `pg-verify@<name>.timer`, `PG_VERIFY_SCHEDULE` | ' +
      '`PG_VERIFY_SCHEDULE` is set (the service can always be started by hand when there is a database) | ' +
      '`PG_VERIFY_SCHEDULE` is absent or empty |',
    '',
    '`restic-systemd install <name>` enables exactly the timers of the jobs that are on, and disables',
    'those of jobs that were switched off since the last install.',
    '',
    'Secrets: a profile holding a secret (a password, a key, credentials in a URL) must not be',
    'readable by group or others, and the files named by `RESTIC_PASSWORD_FILE`,',
    '`RESTIC_REPOSITORY_FILE` and `PGPASSFILE` must not be either: `chmod 600`. A profile writable by',
    'group or others is always refused. Secrets never go into unit files.',
    '',
  ];
  for (const group of Object.keys(GROUP_TITLES) as FieldGroup[]) {
    lines.push(`## ${GROUP_TITLES[group]}`, '', '| key | default | from | meaning |', '| --- | --- | --- | --- |');
    for (const key of FIELD_KEYS) {
      const field = FIELDS[key] as Field<unknown>;
      if (field.group !== group) continue;
      const fallback = field.default === undefined ? '' : field.default === '' ? '(empty)' : `\`${field.default}\``;
      const example = field.example ? ` Example: \`${key}=${field.example}\`.` : '';
      lines.push(`| \`${key}\` | ${fallback} | ${OWNERS[field.owner]} | ${cell(field.doc + example)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function exitCodeReference(): string {
  return [
    '# Exit codes',
    '',
    '<!-- Generated from src/errors.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every command uses this table. 0 means everything asked for succeeded; anything else means it',
    'did not, and the message on stderr says what to do.',
    '',
    '| code | name | meaning |',
    '| --- | --- | --- |',
    ...EXIT_CODES.map((entry) => `| ${entry.code} | ${entry.name} | ${cell(entry.meaning)} |`),
    '',
  ].join('\n');
}

/** Whether an option's default is worth saying (a false flag is no default). */
export function hasDefault(option: OptionSpec): boolean {
  return option.default !== undefined && option.default !== false;
}

export function optionUsage(option: OptionSpec): string {
  return option.type === 'boolean'
    ? `--${option.name}`
    : `--${option.name} ${option.value ?? 'VALUE'}${option.repeatable ? '…' : ''}`;
}

/** A command's usage line: its arguments, its options (optional ones in brackets). */
export function commandUsage(spec: CommandSpec): string {
  return [
    spec.command.replace(/\.\.>/g, '…>').replace(/\.\.\]/g, '…]'),
    ...spec.options.map((option) => (option.required ? optionUsage(option) : `[${optionUsage(option)}]`)),
    ...(spec.command.startsWith('exec') ? ['-- <command…>'] : []),
  ].join(' ');
}

/** The global options and every command's synopsis, options and examples. */
export function commandReference(): string {
  const lines = [
    '| option | default | meaning |',
    '| --- | --- | --- |',
    ...GLOBAL_OPTIONS.map(
      (option) =>
        `| \`${optionUsage(option)}\` | ` +
        `${option.default === undefined || option.default === false ? '' : `\`${option.default}\``} | ` +
        `${cell(option.describe)}. |`,
    ),
    '',
    '| command | what it does |',
    '| --- | --- |',
    ...VISIBLE_COMMANDS.map((spec) => {
      const usage = commandUsage(spec);
      const options = spec.options
        .map((option) => {
          const fallback = hasDefault(option) ? ` (default ${option.default})` : '';
          return ` \`${optionUsage(option)}\`: ${option.describe}${fallback}.`;
        })
        .join('');
      const examples = spec.examples
        .map(([example, meaning]) => ` \`restic-systemd ${example}\`: ${meaning}.`)
        .join('');
      return `| \`${usage}\` | ${cell(`${spec.summary}.${options}${examples ? ` Examples:${examples}` : ''}`)} |`;
    }),
    '| `completion` | Print a bash/zsh completion script: `restic-systemd completion >> ~/.bashrc`. |',
    '| `--help`, `--version` | Usage of the CLI or of one command (`restic-systemd install --help`), and the ' +
      'version. |',
  ];
  return lines.join('\n');
}

/** The page with its generated block replaced; throws when the page has no markers. */
export function spliceGeneratedBlock(page: string, id: string, block: string): string {
  const begin = `<!-- generated: ${id} -->`;
  const end = '<!-- end of generated -->';
  const start = page.indexOf(begin);
  const stop = page.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`the page has no "${begin}" … "${end}" markers`);
  return `${page.slice(0, start + begin.length)}\n${block}\n${page.slice(stop)}`;
}
