/**
 * What a profile makes root run. A profile decides what is backed up; the programs it may name are the
 * few keys below, each held to the trust rule (permissions.ts). Variables that would choose a program or
 * load code behind that rule (the loader's, the interpreters', PATH, another tool's *_COMMAND) are refused.
 */

/** Keys whose value's first word is a program restic or a job runs as root. */
export const PROGRAM_KEYS = [
  'RESTIC_PASSWORD_COMMAND',
  'RESTIC_FROM_PASSWORD_COMMAND',
  'NOTIFY_COMMAND',
  'PG_REPMGRD_STOP_COMMAND',
  'PG_REPMGRD_START_COMMAND',
] as const;

/** restic's -o options whose value's first word is a program restic starts. */
const PROGRAM_OPTIONS = ['sftp.command', 'rclone.program'];

/** ssh options that run a program or load code, written in sftp.args. */
const SSH_PROGRAM_OPTION =
  /^(?:-o)?(ProxyCommand|LocalCommand|KnownHostsCommand|PKCS11Provider|SecurityKeyProvider)\b/i;

/** rclone flags that run a program, written in rclone.args. */
const RCLONE_PROGRAM_FLAG = /^--(?:[a-z0-9]+-)*(?:password-command|ssh|command)(?:=|$)/;

export interface NamedProgram {
  /** The key (or key and option) that names it, for messages. */
  key: string;
  word: string;
}

/** The programs a profile names: the program keys' first words and restic's program options. */
export function namedPrograms(env: Record<string, string>, resticOptions: readonly string[]): NamedProgram[] {
  const named: NamedProgram[] = [];
  for (const key of PROGRAM_KEYS) {
    const word = env[key]?.trim().split(/\s+/)[0];
    if (word) named.push({ key, word });
  }
  for (const option of resticOptions) {
    const [name, value] = splitOption(option);
    const word = PROGRAM_OPTIONS.includes(name) ? value.trim().split(/\s+/)[0] : undefined;
    if (word) named.push({ key: `BACKUP_RESTIC_OPTIONS ${name}`, word });
  }
  return named;
}

/** Files restic's ssh or rclone read their own configuration from (which can name programs): held to the trust rule. */
export function namedConfigFiles(resticOptions: readonly string[]): NamedProgram[] {
  const files: NamedProgram[] = [];
  for (const option of resticOptions) {
    const [name, value] = splitOption(option);
    const words = value.split(/\s+/).filter(Boolean);
    const flag = name === 'sftp.args' ? /^-F(.*)$/ : name === 'rclone.args' ? /^--config(?:=(.*))?$/ : undefined;
    words.forEach((word, index) => {
      const match = flag?.exec(word);
      const file = match ? match[1] || words[index + 1] : undefined;
      if (file) files.push({ key: `BACKUP_RESTIC_OPTIONS ${name}`, word: file });
    });
  }
  return files;
}

/** What is wrong with restic options that make ssh or rclone run a program the trust rule never sees. */
export function programOptionProblem(option: string): string | undefined {
  const [name, value] = splitOption(option);
  const words = value.split(/\s+/).filter(Boolean);
  const ssh = name === 'sftp.args' ? words.find((word) => SSH_PROGRAM_OPTION.test(word)) : undefined;
  if (ssh)
    return (
      `${name}: ssh's ${SSH_PROGRAM_OPTION.exec(ssh)![1]} runs a program as root that no check sees: put it in ` +
      `a Host block of a root-owned ssh config and name that file (sftp.args=-F/etc/restic/ssh.conf)`
    );
  const rclone = name === 'rclone.args' ? words.find((word) => RCLONE_PROGRAM_FLAG.test(word)) : undefined;
  if (rclone)
    return (
      `${name}: rclone's ${rclone.split('=')[0]} runs a program as root that no check sees: put the remote in ` +
      `root's rclone config instead`
    );
  return undefined;
}

/** Variables that choose which program runs, or load code into it: the loader's, the shells', the interpreters'. */
const RUNTIME_VARIABLE = new RegExp(
  '^(PATH|ENV|BASH_ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|PS4|GCONV_PATH|GLIBC_TUNABLES|' +
    'LD_.*|NODE_.*|PYTHON.*|PERL5.*|PERLLIB|RUBY.*)$',
);

/** Other tools' variables that name a program to run (rclone's RCLONE_PASSWORD_COMMAND, ssh's SSH_ASKPASS…). */
const PROGRAM_VARIABLE = /(_COMMAND|_PROGRAM|_CMD)$|ASKPASS|^RCLONE_.*_SSH$/;

/** Why a profile may not hold this key (one that is not restic-systemd's own), if it may not. */
export function forbiddenVariableProblem(key: string): string | undefined {
  if ((PROGRAM_KEYS as readonly string[]).includes(key)) return undefined;
  if (RUNTIME_VARIABLE.test(key))
    return (
      `chooses which program root runs or what code it loads: a profile decides what is backed up, never ` +
      `that. Remove this line (restic-systemd runs the system's programs, found on the system's PATH)`
    );
  if (PROGRAM_VARIABLE.test(key))
    return (
      `names a program that restic, ssh or rclone would run as root, past the trust rule: remove this line ` +
      `(only ${PROGRAM_KEYS.join(', ')} name programs, each a file only root can change)`
    );
  return undefined;
}

function splitOption(option: string): [string, string] {
  const equals = option.indexOf('=');
  return equals < 0 ? [option, ''] : [option.slice(0, equals), option.slice(equals + 1)];
}
