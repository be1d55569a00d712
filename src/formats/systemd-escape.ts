/**
 * Escaping of values written into unit files (systemd.unit(5), systemd.service(5)): "%" starts
 * a specifier, "$" an environment variable in Exec lines, and words with spaces need quotes.
 */

export function escapeSpecifiers(value: string): string {
  return value.replaceAll('%', '%%');
}

function quoteIfNeeded(value: string): string {
  if (!/[\s"'\\]/.test(value)) return value;
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** One word of an ExecStart= command line. */
export function execWord(word: string): string {
  return quoteIfNeeded(escapeSpecifiers(word).replaceAll('$', '$$$$'));
}

/** One path of a space-separated path list such as ReadWritePaths=. */
export function pathListItem(value: string): string {
  return quoteIfNeeded(escapeSpecifiers(value));
}

/** One word of a /bin/sh command line, quoted when it needs to be. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
