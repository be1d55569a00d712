/**
 * The assignments of a shell file that scripts `source` (`export KEY=…`, `KEY=( … )` arrays,
 * quotes, `$VAR` of earlier assignments), read the way bash would, without running anything: a
 * line that is not an assignment (a command, a condition, a command substitution) is named and
 * not read, because importing a profile must never run the operator's code.
 */
import type { Assignment } from './read-env-file.js';

export interface ShellAssignment extends Assignment {
  /** Set with KEY=( … ): the words, which `value` joins with spaces. */
  words?: string[];
}

export interface ShellFileReading {
  assignments: ShellAssignment[];
  ignored: Array<{ line: number; text: string; reason: string }>;
}

class Unreadable extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** A cursor over the file's text that counts lines. */
class Cursor {
  index = 0;
  line = 1;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.index >= this.text.length;
  }
  peek(offset = 0): string {
    return this.text[this.index + offset] ?? '';
  }
  next(): string {
    const c = this.text[this.index++] ?? '';
    if (c === '\n') this.line++;
    return c;
  }
  restOfLine(): string {
    const end = this.text.indexOf('\n', this.index);
    return this.text.slice(this.index, end < 0 ? undefined : end);
  }
  skipLine(): void {
    while (!this.done && this.next() !== '\n');
  }
}

/**
 * Read one shell word at the cursor: unquoted characters, '…', "…" and $VAR, up to whitespace,
 * ";", a newline or ")" (inside an array). `lookup` gives the value of an earlier variable.
 */
function readWord(cursor: Cursor, lookup: (name: string) => string | undefined, inArray: boolean): string {
  let word = '';
  const expand = () => {
    cursor.next(); // $
    if (cursor.peek() === '(' || cursor.peek() === '((')
      throw new Unreadable('a command substitution $(…): import runs nothing');
    if (cursor.peek() === "'" || cursor.peek() === '"')
      throw new Unreadable(
        `$${cursor.peek()}…${cursor.peek()} quoting (escapes or translation): write the value in plain quotes`,
      );
    let name: string;
    if (cursor.peek() === '{') {
      cursor.next();
      const close = cursor.text.indexOf('}', cursor.index);
      if (close < 0) throw new Unreadable('an unclosed ${…}');
      name = cursor.text.slice(cursor.index, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Unreadable(`\${${name}}: only plain \${NAME} is read`);
      while (cursor.index <= close) cursor.next();
    } else {
      name = NAME.exec(cursor.text.slice(cursor.index))?.[0] ?? '';
      if (!name) return '$';
      for (let i = 0; i < name.length; i++) cursor.next();
    }
    const value = lookup(name);
    if (value === undefined) throw new Unreadable(`$${name} is not set in the files imported`);
    return value;
  };
  for (;;) {
    const c = cursor.peek();
    if (c === '' || c === '\n' || c === ' ' || c === '\t' || c === ';' || (inArray && c === ')')) return word;
    if (c === '`') throw new Unreadable('a command substitution `…`: import runs nothing');
    // bash expands an unquoted ~ at the start of a value (or after ":") to the home folder of whoever ran the script.
    if (c === '~' && (word === '' || word.endsWith(':')))
      throw new Unreadable('"~" is the home folder of whoever ran the script: write the path from /');
    if (c === '|' || c === '&' || c === '<' || c === '>' || c === '(')
      throw new Unreadable(`"${c}" starts a command, not a value`);
    if (c === '\\') {
      cursor.next();
      const escaped = cursor.next();
      if (escaped !== '\n') word += escaped; // backslash-newline: the line goes on
    } else if (c === "'") {
      cursor.next();
      const close = cursor.text.indexOf("'", cursor.index);
      if (close < 0) throw new Unreadable('a quote that never closes');
      while (cursor.index < close) word += cursor.next();
      cursor.next();
    } else if (c === '"') {
      cursor.next();
      for (;;) {
        if (cursor.done) throw new Unreadable('a quote that never closes');
        const d = cursor.peek();
        if (d === '"') {
          cursor.next();
          break;
        }
        if (d === '\\' && '$`"\\\n'.includes(cursor.peek(1))) {
          cursor.next();
          const escaped = cursor.next();
          if (escaped !== '\n') word += escaped;
        } else if (d === '$') word += expand();
        else if (d === '`') throw new Unreadable('a command substitution `…`: import runs nothing');
        else word += cursor.next();
      }
    } else if (c === '$') {
      word += expand();
    } else if (c === '#' && word === '') {
      return word;
    } else {
      word += cursor.next();
    }
  }
}

function skipBlanks(cursor: Cursor): void {
  while (cursor.peek() === ' ' || cursor.peek() === '\t' || (cursor.peek() === '\\' && cursor.peek(1) === '\n')) {
    if (cursor.next() === '\\') cursor.next();
  }
}

/** Read the assignments of a shell file; `known` holds the variables of files read before it. */
export function readShellFile(text: string, known: ReadonlyMap<string, string> = new Map()): ShellFileReading {
  // In the order of their last assignment: a key set again moves to the end.
  const assignments = new Map<string, ShellAssignment>();
  const ignored: ShellFileReading['ignored'] = [];
  const values = new Map(known);
  const lookup = (name: string) => values.get(name);
  const cursor = new Cursor(text);
  const lineStarts = [0];
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) lineStarts.push(index + 1);
  const physicalLine = (line: number) => text.slice(lineStarts[line - 1], (lineStarts[line] ?? text.length + 1) - 1);

  while (!cursor.done) {
    skipBlanks(cursor);
    const start = cursor.line;
    const c = cursor.peek();
    if (c === '\n' || c === ';') {
      cursor.next();
      continue;
    }
    if (c === '#') {
      cursor.skipLine();
      continue;
    }
    const lineText = cursor.restOfLine();
    // export / declare -x / readonly in front of assignments.
    const prefix = /^(export|declare\s+-[a-zA-Z]*x[a-zA-Z]*|readonly)\s+/.exec(lineText);
    if (prefix) for (let i = 0; i < prefix[0].length; i++) cursor.next();
    const pending: ShellAssignment[] = [];
    // What this line changed, to undo when it turns out unreadable.
    const undo: Array<[string, string | undefined]> = [];
    const assign = (key: string, value: string) => {
      undo.push([key, values.get(key)]);
      values.set(key, value);
    };
    try {
      let any = false;
      for (;;) {
        skipBlanks(cursor);
        const rest = cursor.text.slice(cursor.index);
        const name = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/.exec(rest);
        if (!name) {
          const next = cursor.peek();
          if (next === '' || next === '\n' || next === ';' || next === '#') break;
          if (prefix && !any && /^[A-Za-z_][A-Za-z0-9_]*\s*($|[;#\n])/.test(rest)) {
            // `export NAME` alone: marks a variable set before, changes no value.
            readWord(cursor, lookup, false);
            continue;
          }
          throw new Unreadable(
            any
              ? 'a command after the assignments: they would set its environment only'
              : 'not an assignment (a command, a condition or a function): import runs nothing',
          );
        }
        for (let i = 0; i < name[0].length; i++) cursor.next();
        const key = name[1]!;
        const appending = name[2] === '+';
        if (cursor.peek() === '(') {
          cursor.next();
          const words: string[] = [];
          for (;;) {
            while (' \t\n'.includes(cursor.peek()) && !cursor.done) cursor.next();
            if (cursor.peek() === '#') {
              cursor.skipLine();
              continue;
            }
            if (cursor.peek() === ')') {
              cursor.next();
              break;
            }
            if (cursor.done) throw new Unreadable('an array "( … )" that never closes');
            const at = cursor.index;
            const word = readWord(cursor, lookup, true);
            // A character that ends a word but not an array (";"): bash refuses it there.
            if (cursor.index === at) throw new Unreadable(`"${cursor.peek()}" inside an array "( … )"`);
            words.push(word);
          }
          // The earlier words as they were (a word may hold spaces); a plain value is one word, as in bash.
          const earlier =
            [...pending].reverse().find((item) => item.key === key)?.words ??
            assignments.get(key)?.words ??
            (values.get(key) ? [values.get(key)!] : []);
          const all = appending ? [...earlier, ...words] : words;
          assign(key, all.join(' '));
          pending.push({ key, value: all.join(' '), words: all, line: start });
        } else {
          const word = readWord(cursor, lookup, false);
          const value = appending ? `${values.get(key) ?? ''}${word}` : word;
          assign(key, value);
          pending.push({ key, value, line: start });
        }
        any = true;
      }
      for (const assignment of pending) {
        assignments.delete(assignment.key);
        assignments.set(assignment.key, assignment);
      }
      // The rest of the line: a comment, or the end.
      if (cursor.peek() === '#') cursor.skipLine();
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error;
      // The whole logical line (lines ending in "\" go on), and at least up to where reading failed.
      let end = start;
      while (/(^|[^\\])(\\\\)*\\$/.test(physicalLine(end)) && end < lineStarts.length) end++;
      // A construct that failed further down (an array's word) is skipped whole; one that never closes is not.
      if (!/never closes/.test(error.message)) end = Math.max(end, Math.min(cursor.line, lineStarts.length));
      const logical = Array.from({ length: end - start + 1 }, (_, offset) => physicalLine(start + offset))
        .join('\n')
        .replace(/\\\n[ \t]*/g, ' ');
      ignored.push({ line: start, text: logical.trim(), reason: error.message });
      // Forget what this line set: it is not read at all.
      for (const [key, value] of undo.reverse()) {
        if (value === undefined) values.delete(key);
        else values.set(key, value);
      }
      cursor.line = end;
      cursor.index = lineStarts[end - 1]!;
      cursor.skipLine();
    }
  }
  return { assignments: [...assignments.values()], ignored };
}
