/**
 * The one place that starts external programs. Commands are argv arrays (never shell strings),
 * every command is logged once with secrets masked, and exit codes are returned for the caller's
 * tool module to interpret. This is the only module that imports execa.
 */
import { CommandError, EnvironmentError } from '../errors.js';
import type { Logger } from '../log.js';
import { maskSecrets } from '../log.js';
import { TOOLS, toolBinary, type ToolName } from './tools.js';

export interface RunOptions {
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
  /** Text written to the program's stdin (small inputs only; streams go through OS pipes). */
  input?: string;
}

export interface RunResult {
  /** The command line as logged: secrets masked, for messages. */
  command: string;
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface Runner {
  run(tool: ToolName, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** Quote one argv word for display only; nothing is ever run through a shell. */
function displayWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function displayCommand(binary: string, args: readonly string[]): string {
  return maskSecrets([binary, ...args].map(displayWord).join(' '));
}

export function createRunner(log: Logger, env: NodeJS.ProcessEnv = process.env): Runner {
  return {
    async run(tool, args, options = {}) {
      const binary = toolBinary(tool, env);
      const command = displayCommand(binary, args);
      log.debug(`running: ${command}`);
      // Loaded on first use: importing execa costs about 0.2 s of start-up.
      const { execa } = await import('execa');
      const result = await execa(binary, [...args], {
        reject: false,
        env: options.env,
        input: options.input,
        stdin: options.input === undefined ? 'ignore' : undefined,
        stripFinalNewline: false,
      });
      if (result.failed && result.exitCode === undefined && !result.signal) {
        const code = (result as { code?: string }).code;
        if (code === 'ENOENT') {
          const spec = TOOLS[tool];
          throw new EnvironmentError(
            `${binary} was not found: install it (apt-get install ${spec.debianPackage}) or set ${spec.envVar} to its path`,
          );
        }
        throw new CommandError(`${command} could not be started: ${result.shortMessage}`, command, undefined, '');
      }
      return {
        command,
        exitCode: result.exitCode ?? 128,
        signal: result.signal ?? undefined,
        stdout: String(result.stdout ?? ''),
        stderr: maskSecrets(String(result.stderr ?? '')),
      };
    },
  };
}

/** Throw a CommandError carrying the program's own words unless it exited 0. */
export function expectSuccess(result: RunResult, what: string): RunResult {
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim() || result.stdout.trim();
    throw new CommandError(
      `${what} failed (${result.signal ? `signal ${result.signal}` : `exit ${result.exitCode}`}): ${result.command}${detail ? `\n${detail}` : ''}`,
      result.command,
      result.exitCode,
      result.stderr,
    );
  }
  return result;
}
