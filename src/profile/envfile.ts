/**
 * Reads a profile (an env file) the way systemd's EnvironmentFile= and the guide's
 * `while read -r line; do export "$line"; done` loop would, through `ini`, and refuses every line
 * on which those readers would disagree, instead of silently changing a value.
 */
import ini from 'ini';
import type { ProfileIssue } from '../errors.js';
import { isSecretKey, urlPassword } from './secrets.js';

export interface EnvEntry {
  value: string;
  line: number;
}

export interface EnvFile {
  entries: Map<string, EnvEntry>;
  issues: ProfileIssue[];
  /** Keys whose lines were refused: they are there, only unreadable, so never "missing". */
  refusedKeys: Set<string>;
  /** The whole file was refused (binary, encoding, line endings): nothing else is worth checking. */
  unreadable: boolean;
  /** The raw values of refused lines that may hold a secret: masked in all output all the same. */
  refusedSecrets: string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse the bytes of an env file. `file` is the name used in messages. */
export function parseEnvFile(bytes: Uint8Array, file: string): EnvFile {
  const entries = new Map<string, EnvEntry>();
  const issues: ProfileIssue[] = [];
  const refusedKeys = new Set<string>();
  const refusedSecrets: string[] = [];
  const refuse = (message: string, line?: number, key?: string) => {
    issues.push({ file, line, key, message });
    if (key) refusedKeys.add(key);
  };
  const unreadable = () => ({ entries, issues, refusedKeys, unreadable: true, refusedSecrets });

  if (bytes.includes(0)) {
    refuse(
      'the file holds binary data (a NUL byte), not KEY=VALUE lines: restore the profile from a backup or ' +
        'write it anew',
    );
    return unreadable();
  }
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so that it is seen and refused below.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    refuse('the file is not valid UTF-8 text: restore the profile from a backup or write it anew');
    return unreadable();
  }
  if (text.startsWith('\uFEFF')) {
    refuse(
      'the file starts with a UTF-8 byte-order mark, which systemd would read as part of the first key: save ' +
        'it without BOM (e.g. sed -i "1s/^\\xEF\\xBB\\xBF//" FILE)',
      1,
    );
    return unreadable();
  }
  if (text.includes('\r')) {
    refuse(
      'the file has Windows (CRLF) line endings; the shell would keep the \\r in every value: convert it with ' +
        'dos2unix or sed -i "s/\\r$//" FILE',
    );
    return unreadable();
  }

  const accepted: string[] = [];
  const lines = text.split('\n');
  // Lines that continue a previous line ending in "\": reported once, with the line they continue.
  const continued = new Set<number>();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (continued.has(index)) return;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) {
      // systemd before 254 (Debian 12's 252) reads a comment ending in "\" as going on over the next line.
      if (trimmed.endsWith('\\'))
        refuse(
          'a comment that ends in "\\": systemd 252 (Debian 12) would take the next line as part of the ' +
            'comment and never read it; remove the backslash',
          line,
        );
      return;
    }
    if (trimmed === '') return;
    if (/^\[.*\]$/.test(trimmed)) {
      return refuse(`section header "${trimmed}": an env file has no sections, remove the line`, line);
    }
    if (/^export\s/.test(trimmed)) {
      const exported = /^export\s+([^=\s]+)/.exec(trimmed)?.[1];
      return refuse(
        '"export " is shell syntax that systemd does not read: remove "export " from the line',
        line,
        exported,
      );
    }
    const equals = raw.indexOf('=');
    if (equals < 0) {
      // The line itself is not repeated: a password pasted alone on a line must not reach a message.
      refusedSecrets.push(trimmed);
      return refuse(
        'this line is not KEY=VALUE (it has no "="): write it as KEY=VALUE, or make it a comment with "#"',
        line,
      );
    }
    const key = raw.slice(0, equals);
    const rawValue = raw.slice(equals + 1);
    if (rawValue.endsWith('\\') && KEY.test(key)) {
      let last = index;
      while (lines[last]?.endsWith('\\') && last + 1 < lines.length) continued.add(++last);
      if (isSecretKey(key)) refusedSecrets.push(...lines.slice(index, last + 1).map((text) => text.trim()));
      const lineNumbers = last > index ? `lines ${line}-${last + 1}` : `line ${line}`;
      return refuse(
        `a line continuation ("\\" at the end of the line, ${lineNumbers}): systemd joins the lines, the ` +
          `shell's read loop and ini do not; write the whole value on one line (e.g. BACKUP_PATHS=/srv /home), ` +
          `or translate the file with restic-systemd import`,
        line,
        key,
      );
    }
    // Whatever is wrong with the line, a value that may be a secret is masked in every message.
    if (isSecretKey(key.trim()) || urlPassword(rawValue) !== undefined)
      refusedSecrets.push(
        rawValue.trim(),
        unquote(rawValue.trim()),
        ...(urlPassword(rawValue) ? [urlPassword(rawValue)!] : []),
      );
    if (key !== key.trim() || (rawValue !== rawValue.trimStart() && rawValue.trim() !== '')) {
      return refuse('remove the spaces around "=": the shell would not accept them', line, key.trim());
    }
    if (!KEY.test(key) || key.startsWith('__')) {
      issues.push({
        file,
        line,
        message: `"${key}" is not a valid variable name: use letters, digits and "_", not starting with a digit`,
      });
      return;
    }
    const value = readValue(rawValue, (message) => refuse(message, line, key));
    if (value === undefined) return;
    const earlier = entries.get(key);
    if (earlier) {
      return refuse(`set twice, on lines ${earlier.line} and ${line}: keep one`, line, key);
    }
    entries.set(key, { value, line });
    accepted.push(`${key}=${rawValue}`);
  });

  crossCheckWithIni(accepted.join('\n'), entries, file, issues, refusedKeys);
  return { entries, issues, refusedKeys, unreadable: false, refusedSecrets };
}

/** A value without its enclosing quotes, as it is meant. */
function unquote(value: string): string {
  return value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]!)
    ? value.slice(1, -1)
    : value;
}

/** The value systemd would read, or undefined (after reporting) when the readers disagree on it. */
function readValue(raw: string, refuse: (message: string) => void): string | undefined {
  if (raw !== raw.trimEnd()) {
    refuse('trailing spaces after the value: remove them (systemd drops them, the shell keeps them)');
    return undefined;
  }
  if (raw.includes('\\')) {
    refuse(
      'a backslash in the value: systemd, ini and the shell read backslashes differently; remove it, or move ' +
        'a secret into a file (RESTIC_PASSWORD_FILE)',
    );
    return undefined;
  }
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const closing = raw.indexOf(quote, 1);
    const after = closing > 0 ? raw.slice(closing + 1).trim() : '';
    if (after.startsWith('#') || after.startsWith(';')) {
      refuse(
        `a comment after the closing quote: systemd keeps ${JSON.stringify(after)} as part of the value; put ` +
          `the comment on a line of its own`,
      );
      return undefined;
    }
    const inner = raw.slice(1, -1);
    if (raw.length < 2 || !raw.endsWith(quote) || inner.includes(quote)) {
      refuse(
        `unbalanced ${quote === '"' ? 'double' : 'single'} quote: quote the whole value, as KEY=${quote}value${quote}`,
      );
      return undefined;
    }
    return inner;
  }
  if (/[#;]/.test(raw)) {
    refuse(
      'an unquoted "#" or ";" in the value: ini would cut the value there while systemd keeps it; quote the ' +
        'value (KEY="…") or move a secret into a file (RESTIC_PASSWORD_FILE)',
    );
    return undefined;
  }
  return raw;
}

/** Parse the accepted lines with ini and refuse any key where its reading differs from ours. */
function crossCheckWithIni(
  text: string,
  entries: Map<string, EnvEntry>,
  file: string,
  issues: ProfileIssue[],
  refusedKeys: Set<string>,
): void {
  const parsed = ini.parse(text) as Record<string, unknown>;
  for (const [key, entry] of entries) {
    // ini turns true/false/null into non-strings; their text is what systemd reads.
    const read = parsed[key];
    const asText =
      typeof read === 'string' ? read : read === true || read === false || read === null ? String(read) : undefined;
    if (asText !== entry.value) {
      const readings = isSecretKey(key)
        ? ''
        : ` as ${JSON.stringify(read)} but systemd reads ${JSON.stringify(entry.value)}`;
      issues.push({
        file,
        line: entry.line,
        key,
        message: `ini reads this value${readings}, differently from systemd: simplify the value`,
      });
      entries.delete(key);
      refusedKeys.add(key);
    }
  }
}
