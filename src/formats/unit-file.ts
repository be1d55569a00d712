/**
 * Reading a unit file of someone else's (a hand-made restic@.service, restic-backup@.timer): its
 * settings by section, with continuation lines joined, and systemd's specifiers of an instance
 * expanded (%i, %I, %p, %n…). Pure: the caller reads the file.
 */
/** The first line of every file restic-systemd writes; files without it are never touched. */
export const MARKER = '# Managed by restic-systemd';

/** Whether a file's text is restic-systemd's: the marker on the first line, or on the second after a #! line (the
 * generator script). */
export function writtenByRestic(text: string): boolean {
  return text.startsWith(MARKER) || (text.startsWith('#!') && text.split('\n')[1]?.startsWith(MARKER) === true);
}

export interface UnitSetting {
  section: string;
  key: string;
  value: string;
}

export function parseUnitFile(text: string): UnitSetting[] {
  const settings: UnitSetting[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    let part = lines[index]!.trim();
    if (part === '' || part.startsWith('#') || part.startsWith(';')) continue;
    // A line ending in "\" goes on on the next (comment lines in between are skipped); parts joined once.
    const parts: string[] = [];
    while (part.endsWith('\\') && index + 1 < lines.length) {
      parts.push(part.slice(0, -1).trimEnd());
      let next = lines[++index]!.trim();
      while ((next.startsWith('#') || next.startsWith(';')) && index + 1 < lines.length) next = lines[++index]!.trim();
      part = next.startsWith('#') || next.startsWith(';') ? '' : next;
    }
    parts.push(part);
    const line = parts.join(' ');
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const equals = line.indexOf('=');
    if (equals < 0) continue;
    settings.push({ section, key: line.slice(0, equals).trim(), value: line.slice(equals + 1).trim() });
  }
  return settings;
}

export function settingValues(settings: readonly UnitSetting[], section: string, key: string): string[] {
  return settings
    .filter((setting) => setting.section === section && setting.key === key)
    .map((setting) => setting.value);
}

/** systemd-escape's reverse: "\x2d" back to "-", "-" back to "/"; escaped bytes are UTF-8 ("\xc3\xa9": "é"). */
export function unescapeUnitName(text: string): string {
  return text
    .replace(/-/g, '/')
    .replace(/(?:\\x[0-9a-fA-F]{2})+/g, (run: string) => Buffer.from(run.replace(/\\x/g, ''), 'hex').toString('utf8'));
}

/** Expand the specifiers of a unit named `unit` (e.g. restic-backup@home.service) in a value. */
export function expandSpecifiers(value: string, unit: string): string {
  const dot = unit.lastIndexOf('.');
  const name = dot > 0 ? unit.slice(0, dot) : unit;
  const at = name.indexOf('@');
  const prefix = at >= 0 ? name.slice(0, at) : name;
  const instance = at >= 0 ? name.slice(at + 1) : '';
  const table: Record<string, string> = {
    i: instance,
    I: unescapeUnitName(instance),
    p: prefix,
    P: unescapeUnitName(prefix),
    j: prefix.slice(prefix.lastIndexOf('-') + 1),
    J: unescapeUnitName(prefix.slice(prefix.lastIndexOf('-') + 1)),
    n: unit,
    N: name,
    // The system manager's folders, and root's (man systemd.unit, "Specifiers").
    E: '/etc',
    S: '/var/lib',
    C: '/var/cache',
    L: '/var/log',
    T: '/tmp',
    V: '/var/tmp',
    t: '/run',
    h: '/root',
    u: 'root',
    U: '0',
    g: 'root',
    G: '0',
    '%': '%',
  };
  return value.replace(/%(.)/g, (whole, letter: string) => table[letter] ?? whole);
}

/**
 * A command line's words with its environment variables substituted as systemd does (man
 * systemd.service, "Command lines"): a word that is only $NAME becomes the value's
 * whitespace-separated words; ${NAME} inside a word is replaced by the value as it is. A variable
 * the environment lacks becomes empty, and is named in `unset`.
 */
export function expandExecWords(
  words: readonly string[],
  environment: ReadonlyMap<string, string>,
): { words: string[]; unset: string[] } {
  const unset = new Set<string>();
  const value = (name: string) => {
    if (!environment.has(name)) unset.add(name);
    return environment.get(name) ?? '';
  };
  const expanded = words.flatMap((word) => {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) return value(whole[1]!).split(/\s+/).filter(Boolean);
    // "$$" is a literal "$" (man systemd.service, "Command lines").
    return [
      word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string | undefined) =>
        name === undefined ? '$' : value(name),
      ),
    ];
  });
  return { words: expanded, unset: [...unset] };
}
