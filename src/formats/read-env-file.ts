/**
 * An env file as systemd's EnvironmentFile= reads it: the state machine of systemd's
 * parse_env_file_internal() (src/basic/env-file.c), followed by systemd's own rule for names (an
 * invalid name, such as "export X", is ignored with a warning). Used to import files systemd
 * reads; restic-systemd's own profiles go through profile/envfile.ts, which refuses every line two
 * readers could read differently.
 */

export interface Assignment {
  key: string;
  value: string;
  /** The line the assignment ends on (1-based). */
  line: number;
}

export interface EnvFileReading {
  assignments: Assignment[];
  /** What systemd skips, each with its line: names it refuses. */
  ignored: Array<{ line: number; text: string; reason: string }>;
}

const WHITESPACE = ' \t\n\r';
const NEWLINE = '\n\r';
const COMMENTS = '#;';
// Characters a backslash escapes inside double quotes (systemd's SHELL_NEED_ESCAPE).
const SHELL_NEED_ESCAPE = '"\\`$';
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type State =
  | 'PRE_KEY'
  | 'KEY'
  | 'PRE_VALUE'
  | 'VALUE'
  | 'VALUE_ESCAPE'
  | 'SINGLE'
  | 'DOUBLE'
  | 'DOUBLE_ESCAPE'
  | 'COMMENT'
  | 'COMMENT_ESCAPE';

/**
 * `systemdMajor` matters for one construct: before 254, a comment ending in "\" takes the next
 * line into the comment (Debian 12 has 252); from 254 on, the next line is read.
 */
export function readEnvFile(text: string, systemdMajor = 257): EnvFileReading {
  // In the order of their last assignment: a name set again moves to the end.
  const assignments = new Map<string, Assignment>();
  const ignored: EnvFileReading['ignored'] = [];
  let state: State = 'PRE_KEY';
  let key = '';
  let value = '';
  let line = 1;
  // The line an assignment starts on (a value may go on over several).
  let keyLine = 1;
  let lastKeyWhitespace = -1;
  let lastValueWhitespace = -1;

  const push = () => {
    let name = key;
    if (lastKeyWhitespace >= 0) name = name.slice(0, lastKeyWhitespace);
    if (VALID_NAME.test(name)) {
      // A later assignment of the same name replaces the earlier (strv_env_replace).
      assignments.delete(name);
      assignments.set(name, { key: name, value, line: keyLine });
    } else {
      ignored.push({
        line: keyLine,
        text: name,
        reason: /^export\s/.test(name)
          ? 'systemd does not read "export NAME=…": the line is ignored'
          : `"${name}" is not a variable name: systemd ignores the line`,
      });
    }
    key = '';
    value = '';
  };
  const append = (c: string) => (value += c);

  for (const c of text) {
    switch (state) {
      case 'PRE_KEY':
        if (COMMENTS.includes(c)) state = 'COMMENT';
        else if (!WHITESPACE.includes(c)) {
          state = 'KEY';
          keyLine = line;
          lastKeyWhitespace = -1;
          key += c;
        } else if (NEWLINE.includes(c) && c === '\n') line++;
        break;
      case 'KEY':
        if (NEWLINE.includes(c)) {
          // A line without "=": nothing is set.
          ignored.push({ line, text: key, reason: 'no "=": systemd ignores the line' });
          state = 'PRE_KEY';
          if (c === '\n') line++;
          key = '';
        } else if (c === '=') {
          state = 'PRE_VALUE';
          lastValueWhitespace = -1;
        } else {
          if (!WHITESPACE.includes(c)) lastKeyWhitespace = -1;
          else if (lastKeyWhitespace < 0) lastKeyWhitespace = key.length;
          key += c;
        }
        break;
      case 'PRE_VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push();
          if (c === '\n') line++;
        } else if (c === "'") state = 'SINGLE';
        else if (c === '"') state = 'DOUBLE';
        else if (c === '\\') state = 'VALUE_ESCAPE';
        else if (!WHITESPACE.includes(c)) {
          state = 'VALUE';
          append(c);
        }
        break;
      case 'VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          if (lastValueWhitespace >= 0) value = value.slice(0, lastValueWhitespace);
          push();
          if (c === '\n') line++;
        } else if (c === '\\') {
          state = 'VALUE_ESCAPE';
          lastValueWhitespace = -1;
        } else {
          if (!WHITESPACE.includes(c)) lastValueWhitespace = -1;
          else if (lastValueWhitespace < 0) lastValueWhitespace = value.length;
          append(c);
        }
        break;
      case 'VALUE_ESCAPE':
        state = 'VALUE';
        // An escaped newline is eaten: the value goes on on the next line.
        if (!NEWLINE.includes(c)) append(c);
        else if (c === '\n') line++;
        break;
      case 'SINGLE':
        if (c === "'") state = 'PRE_VALUE';
        else {
          if (c === '\n') line++;
          append(c);
        }
        break;
      case 'DOUBLE':
        if (c === '"') state = 'PRE_VALUE';
        else if (c === '\\') state = 'DOUBLE_ESCAPE';
        else {
          if (c === '\n') line++;
          append(c);
        }
        break;
      case 'DOUBLE_ESCAPE':
        state = 'DOUBLE';
        if (SHELL_NEED_ESCAPE.includes(c)) append(c);
        else if (c !== '\n') append(`\\${c}`);
        else line++;
        break;
      case 'COMMENT':
        if (c === '\\') state = 'COMMENT_ESCAPE';
        else if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          if (c === '\n') line++;
        }
        break;
      case 'COMMENT_ESCAPE':
        if (NEWLINE.includes(c) && systemdMajor >= 254) state = 'PRE_KEY';
        else state = 'COMMENT';
        if (c === '\n') line++;
        break;
    }
  }
  if (['PRE_VALUE', 'VALUE', 'VALUE_ESCAPE', 'SINGLE', 'DOUBLE', 'DOUBLE_ESCAPE'].includes(state)) {
    if (state === 'VALUE' && lastValueWhitespace >= 0) value = value.slice(0, lastValueWhitespace);
    push();
  }
  return { assignments: [...assignments.values()], ignored };
}
