/**
 * restic relays ssh's complaints ("subprocess ssh: …") from a reader that can lose the race with
 * ssh's exit; restic then says only that the SFTP session did not start, which hides whether the
 * host key changed, the key was refused or the server is down. In that case ssh itself is asked,
 * started as restic starts it (restic's own argument order, sftp.command or sftp.args included),
 * with nothing to send and no prompt, and its reason is read as restic's would have been.
 */
import type { Runner } from '../exec/runner.js';

const LOST_REASON = /unable to start the sftp session/i;
const PROBE_TIMEOUT_MS = 30_000;

/** Whether restic's stderr is the SFTP failure whose ssh reason it did not pass on. */
export function sftpReasonLost(repository: string | undefined, stderr: string): repository is string {
  return !!repository?.startsWith('sftp:') && LOST_REASON.test(stderr) && !/^subprocess ssh: /m.test(stderr);
}

interface SftpLocation {
  user?: string;
  host: string;
  port?: string;
}

/** The user, host and port of sftp:[user@]host:path or sftp://[user@]host[:port]/path. */
export function sftpLocation(repository: string): SftpLocation | undefined {
  if (repository.startsWith('sftp://')) {
    try {
      const url = new URL(repository);
      return {
        user: url.username ? decodeURIComponent(url.username) : undefined,
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
      };
    } catch {
      return undefined;
    }
  }
  const match = /^sftp:(?:([^@/:]+)@)?(\[[^\]]+\]|[^:/]+):/.exec(repository);
  return match ? { user: match[1], host: match[2]!.replace(/^\[|\]$/g, '') } : undefined;
}

/** The command restic runs for an SFTP repository with these -o options; never interactive. */
export function sshCommand(
  repository: string,
  options: readonly string[],
): { program: string; args: string[] } | undefined {
  const option = (name: string) =>
    options.find((item) => item.startsWith(`sftp.${name}=`))?.slice(`sftp.${name}=`.length);
  const command = option('command');
  if (command) {
    const [program, ...args] = command.split(/\s+/).filter(Boolean);
    return program ? { program, args } : undefined;
  }
  const location = sftpLocation(repository);
  if (!location) return undefined;
  const args = [location.host];
  if (location.port) args.push('-p', location.port);
  if (location.user) args.push('-l', location.user);
  args.push(...(option('args')?.split(/\s+/).filter(Boolean) ?? []));
  // No question on a terminal: the probe runs by hand too.
  args.push('-o', 'BatchMode=yes', '-s', 'sftp');
  return { program: 'ssh', args };
}

/**
 * ssh's own reason, as restic relays it ("subprocess ssh: <line>"), or nothing when ssh cannot be
 * asked or connects fine. Runs only after restic failed this way: it costs one connection.
 */
export async function askSsh(
  runner: Runner,
  repository: string,
  options: readonly string[],
  env: Record<string, string>,
): Promise<string> {
  const command = sshCommand(repository, options);
  if (!command) return '';
  const cancel = new AbortController();
  const timer = setTimeout(() => cancel.abort(), PROBE_TIMEOUT_MS);
  try {
    const tool = command.program === 'ssh' ? 'ssh' : { program: command.program };
    const result = await runner.run(tool, command.args, { env, input: '', cancel: cancel.signal });
    if (result.exitCode === 0) return '';
    // ssh ends its warnings' lines with CR LF.
    return result.stderr
      .split(/\r?\n/)
      .map((line) => line.replace(/\r/g, '').trimEnd())
      .filter(Boolean)
      .map((line) => `subprocess ssh: ${line}`)
      .join('\n');
  } catch {
    return '';
  } finally {
    clearTimeout(timer);
  }
}
