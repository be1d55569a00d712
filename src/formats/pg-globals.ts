/**
 * The globals script `pg_dumpall --globals-only` writes (roles, their attributes, memberships and
 * tablespaces), split into statements and cut down to what a restore may run: roles and
 * tablespaces the target does not have are created as the dump has them; existing ones are left
 * exactly as they are (their passwords and attributes too), unless the operator asks to update
 * them. Pure: the caller asks the target which roles exist and runs the result.
 */
import { nameParts } from './pg-archive-list.js';

/** The statements and psql meta-commands of a script, each whole (a quoted string may span lines). */
export function sqlStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let quote: "'" | '"' | undefined;
  for (const line of text.split('\n')) {
    if (!quote && current === '' && (line.startsWith('\\') || line.startsWith('--') || line.trim() === '')) {
      if (line.startsWith('\\')) statements.push(line);
      continue;
    }
    for (const character of line) {
      current += character;
      if (quote) {
        if (character === quote) quote = undefined;
      } else if (character === "'" || character === '"') {
        quote = character;
      } else if (character === ';') {
        statements.push(current.trim());
        current = '';
      }
    }
    if (current !== '') current += '\n';
  }
  if (current.trim() !== '') statements.push(current.trim());
  return statements;
}

const NAME = String.raw`(?:"(?:[^"]|"")+"|[^\s";]+)`;
const name = (text: string) => nameParts(text)[0]!;

type About =
  | { kind: 'role'; role: string; creates: boolean }
  | { kind: 'membership'; role: string; member: string }
  | { kind: 'tablespace'; tablespace: string; creates: boolean }
  | { kind: 'setting' }
  | { kind: 'other' };

/** What a statement of the globals script is about. */
function about(statement: string): About {
  const role = new RegExp(`^(CREATE|ALTER) ROLE (${NAME})[ ;]`).exec(statement);
  if (role) return { kind: 'role', role: name(role[2]!), creates: role[1] === 'CREATE' };
  const labelled = new RegExp(`^(?:COMMENT|SECURITY LABEL(?: FOR ${NAME})?) ON ROLE (${NAME}) IS `).exec(statement);
  if (labelled) return { kind: 'role', role: name(labelled[1]!), creates: false };
  const grant = new RegExp(`^GRANT (${NAME}) TO (${NAME})[ ;]`).exec(statement);
  if (grant) return { kind: 'membership', role: name(grant[1]!), member: name(grant[2]!) };
  const tablespace = new RegExp(`^(CREATE|ALTER) TABLESPACE (${NAME})[ ;]`).exec(statement);
  if (tablespace) return { kind: 'tablespace', tablespace: name(tablespace[2]!), creates: tablespace[1] === 'CREATE' };
  const onTablespace = new RegExp(
    `^(?:COMMENT ON TABLESPACE|GRANT .* ON TABLESPACE|REVOKE .* ON TABLESPACE) ` + `(${NAME})`,
  );
  const labelledTablespace = onTablespace.exec(statement);
  if (labelledTablespace) return { kind: 'tablespace', tablespace: name(labelledTablespace[1]!), creates: false };
  if (/^SET /.test(statement) || statement.startsWith('\\')) return { kind: 'setting' };
  return { kind: 'other' };
}

export interface GlobalsPlan {
  /** The script to run: psql with ON_ERROR_STOP. */
  sql: string;
  /** Roles the dump has that the target lacks: created. */
  createdRoles: string[];
  /** Roles both have: left as they are (or updated with `updateRoles`). */
  existingRoles: string[];
  createdTablespaces: string[];
  /** Statements of kinds this restore does not know, left out and named. */
  unknown: string[];
}

/**
 * The part of a globals script to run against a cluster that has `existing` roles and
 * tablespaces. The role the restore connects as is never altered (it could lose its own rights).
 */
export function globalsToRestore(
  script: string,
  existing: { roles: ReadonlySet<string>; tablespaces: ReadonlySet<string>; currentUser: string },
  options: { updateRoles: boolean },
): GlobalsPlan {
  const kept: string[] = [];
  const created = new Set<string>();
  const existingRoles = new Set<string>();
  const tablespaces = new Set<string>();
  const unknown: string[] = [];
  const mayChange = (role: string) =>
    role !== existing.currentUser && (!existing.roles.has(role) || options.updateRoles);
  for (const statement of sqlStatements(script)) {
    const subject = about(statement);
    switch (subject.kind) {
      case 'setting':
        // \restrict keys guard psql against a malicious dump's meta-commands; this script is re-assembled.
        if (!/^\\(un)?restrict /.test(statement)) kept.push(statement);
        break;
      case 'role':
        if (existing.roles.has(subject.role)) existingRoles.add(subject.role);
        else if (subject.creates) created.add(subject.role);
        if (subject.creates ? !existing.roles.has(subject.role) : mayChange(subject.role)) kept.push(statement);
        break;
      case 'membership':
        if (mayChange(subject.member)) kept.push(statement);
        break;
      case 'tablespace':
        if (!existing.tablespaces.has(subject.tablespace)) {
          if (subject.creates) tablespaces.add(subject.tablespace);
          kept.push(statement);
        }
        break;
      default:
        unknown.push(statement.split('\n')[0]!);
    }
  }
  return {
    sql: `${kept.join('\n')}\n`,
    createdRoles: [...created],
    existingRoles: [...existingRoles],
    createdTablespaces: [...tablespaces],
    unknown,
  };
}
