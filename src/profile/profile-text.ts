/**
 * Writing a profile: each KEY=value line in the first form the reader (profile/envfile.ts) reads
 * back as exactly that value, so that systemd, ini and the shell all agree on it: bare, then
 * double-quoted, then single-quoted.
 */
import { parseEnvFile } from './envfile.js';

/** The line for KEY=value, or undefined when no form reads back as the value (a backslash, both quotes…). */
export function profileLine(key: string, value: string): string | undefined {
  for (const form of [value, `"${value}"`, `'${value}'`]) {
    const line = `${key}=${form}`;
    const read = parseEnvFile(new TextEncoder().encode(`${line}\n`), 'line');
    if (read.issues.length === 0 && read.entries.get(key)?.value === value) return line;
  }
  return undefined;
}

/** A whole profile: comment lines (each starting with "# "), then one line per key. */
export function profileText(
  comments: readonly string[],
  entries: ReadonlyArray<[string, string]>,
): { text: string; unwritable: string[] } {
  const lines = comments.map((comment) => `# ${comment}`.trimEnd().replace(/\\+$/, ''));
  const unwritable: string[] = [];
  for (const [key, value] of entries) {
    const line = profileLine(key, value);
    if (line) lines.push(line);
    else unwritable.push(key);
  }
  return { text: `${lines.join('\n')}\n`, unwritable };
}
