/**
 * The one place that starts external programs. Commands are argv arrays (never shell strings),
 * every command is logged once with secrets masked, and exit codes are returned for the caller's
 * tool module to interpret. This is the only module that imports execa.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Options as ExecaOptions } from 'execa';
import { CommandError, EnvironmentError } from '../errors.js';
import { maskSecrets, type Logger } from '../log.js';
import { SYSTEM_PATH } from '../files/trust.js';
import { TOOLS, checkedToolBinary, type OtherProgram, type ToolName } from './tools.js';

export interface RunOptions {
  /**
   * The program's variables, on top of a PATH and a locale: nothing else of this process's
   * environment reaches it (under systemd that is the whole profile, secrets included), unless
   * inheritEnvironment says so.
   */
  env?: Record<string, string>;
  /** Also everything of this process's environment: only for `exec`, which the operator runs with a shell's. */
  inheritEnvironment?: boolean;
  /** Text written to the program's stdin (small inputs only; streams go through OS pipes). */
  input?: string;
  /** Called with each line of stdout as it arrives; stdout is then not kept in memory. */
  onStdoutLine?: (line: string) => void;
  /** The program shares this process's terminal (stdin, stdout, stderr): for `exec`. */
  attached?: boolean;
  /** An open file descriptor passed to the program as its fd 3 (flock(1) locks it). */
  fd3?: number;
  /** An open file descriptor passed as fd 4 (with fd3: a list file beside a folder). */
  fd4?: number;
  /**
   * A descriptor the program holds too, as the next one after fd3 and fd4 (fd 3 when neither is
   * given): a lock that must stay held for as long as the program lives, even if this process is
   * killed first.
   */
  keepOpen?: number;
  /** Called with each line of stderr as it arrives (stderr is still kept for the result). */
  onStderrLine?: (line: string) => void;
  /** Aborting it stops the program: killSignal first (default SIGTERM), SIGKILL 10 s later. */
  cancel?: AbortSignal;
  killSignal?: NodeJS.Signals;
}

export interface RunResult {
  /** The command line as logged: secrets masked, for messages. */
  command: string;
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** What any program needs when it inherits nothing: the system's PATH and a UTF-8 locale. */
export function baseEnvironment(): Record<string, string> {
  return { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' };
}

/** One program of a pipeline. */
export interface PipelineStage {
  tool: ToolName | OtherProgram;
  args: readonly string[];
  /** The program's whole environment (nothing inherited): each stage gets only what it needs. */
  env: Record<string, string>;
  onStderrLine?: (line: string) => void;
  /** Aborting it sends the stage killSignal (default SIGTERM). */
  cancel?: AbortSignal;
  killSignal?: NodeJS.Signals;
  /** As RunOptions.keepOpen: the stage's fd 3. */
  keepOpen?: number;
}

export interface PipelineOptions {
  onStdoutLine?: (line: string) => void;
  stdout?: number;
}

export interface Runner {
  run(tool: ToolName | OtherProgram, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Run programs connected stdout to stdin by the kernel: each stage's stdout descriptor is handed
   * to the next stage, and this process keeps no copy, so the data never passes through
   * JavaScript. Returns every stage's result. The last stage's stdout goes to onStdoutLine, or
   * straight into the descriptor `stdout` (a file, or this process's own stdout).
   */
  pipeline(stages: readonly PipelineStage[], options?: PipelineOptions): Promise<RunResult[]>;
  /** Send a signal to every program this runner has started and that still runs. */
  signalAll(signal: NodeJS.Signals): void;
}

/** Quote one argv word for display only; nothing is ever run through a shell. */
function displayWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function displayCommand(binary: string, args: readonly string[]): string {
  return maskSecrets([binary, ...args].map(displayWord).join(' '));
}

type Stdio = 'ignore' | 'pipe' | 'inherit' | number;

function stdioOf(options: RunOptions): [Stdio, Stdio, Stdio, ...Stdio[]] {
  const stdio: [Stdio, Stdio, Stdio, ...Stdio[]] = options.attached
    ? ['inherit', 'inherit', 'inherit']
    : [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  if (options.fd3 !== undefined) stdio.push(options.fd3);
  if (options.fd4 !== undefined) stdio.push(options.fd4);
  if (options.keepOpen !== undefined) stdio.push(options.keepOpen);
  return stdio;
}

export function createRunner(log: Logger, env: NodeJS.ProcessEnv = process.env): Runner {
  const running = new Set<{ kill: (signal: NodeJS.Signals) => boolean }>();
  return {
    signalAll(signal) {
      for (const subprocess of running) subprocess.kill(signal);
    },
    async pipeline(stages, { onStdoutLine, stdout } = {}) {
      const children: ChildProcess[] = [];
      const binaries = stages.map((stage) => checkedToolBinary(stage.tool, env));
      const commands = stages.map((stage, index) => displayCommand(binaries[index]!, stage.args));
      log.debug(`running: ${commands.join(' | ')}`);
      const finished = stages.map((stage, index) => {
        const previous = children[index - 1];
        const last = index === stages.length - 1;
        const child = spawn(binaries[index]!, [...stage.args], {
          env: { ...stage.env, PATH: SYSTEM_PATH },
          stdio: [
            previous?.stdout ?? 'ignore',
            last ? (stdout ?? (onStdoutLine ? 'pipe' : 'ignore')) : 'pipe',
            'pipe',
            ...(stage.keepOpen === undefined ? [] : [stage.keepOpen]),
          ],
          signal: stage.cancel,
          killSignal: stage.killSignal,
        });
        // An aborted stage is reported by its exit status, not as an error of this process.
        child.on('error', () => undefined);
        // Close our copy of the channel between the previous stage and this one.
        previous?.stdout?.destroy();
        children.push(child);
        running.add(child);
        return collect(child, commands[index]!, last ? onStdoutLine : undefined, stage.onStderrLine).finally(() =>
          running.delete(child),
        );
      });
      return Promise.all(finished);
    },
    async run(tool, args, options = {}) {
      const binary = checkedToolBinary(tool, env);
      const command = displayCommand(binary, args);
      log.debug(`running: ${command}`);
      // Loaded on first use: importing execa costs about 0.2 s of start-up.
      const { execa } = await import('execa');
      const subprocess = execa(binary, [...args], {
        reject: false,
        env: options.inheritEnvironment ? options.env : { ...baseEnvironment(), ...options.env, PATH: SYSTEM_PATH },
        extendEnv: options.inheritEnvironment === true,
        input: options.input,
        stdio: stdioOf(options) as ExecaOptions['stdio'],
        stripFinalNewline: false,
        buffer: { stdout: options.onStdoutLine === undefined, stderr: true },
        cancelSignal: options.cancel,
        killSignal: options.killSignal,
        forceKillAfterDelay: 10_000,
      });
      running.add(subprocess);
      if (options.onStderrLine) subprocess.stderr?.on('data', lineSplitter(options.onStderrLine));
      let result;
      try {
        if (options.onStdoutLine) {
          for await (const line of subprocess.iterable({ from: 'stdout' })) options.onStdoutLine(String(line));
        }
        result = await subprocess;
      } finally {
        running.delete(subprocess);
      }
      if (result.failed && result.exitCode === undefined && !result.signal && !result.isCanceled) {
        const code = (result as { code?: string }).code;
        if (code === 'ENOENT') {
          const hint =
            typeof tool === 'string'
              ? `install it (apt-get install ${TOOLS[tool].debianPackage}) or set ${TOOLS[tool].envVar} to its path`
              : 'check the command name';
          throw new EnvironmentError(`${binary} was not found: ${hint}`);
        }
        throw new CommandError(`${command} could not be started: ${result.shortMessage}`, command, undefined, '');
      }
      return {
        command,
        exitCode: result.exitCode ?? 128,
        signal: result.signal ?? undefined,
        stdout: typeof result.stdout === 'string' ? result.stdout : '',
        stderr: maskSecrets(typeof result.stderr === 'string' ? result.stderr : ''),
      };
    },
  };
}

const STDERR_LIMIT = 64 * 1024;

/** A 'data' handler that calls onLine with every complete line of a stream (a last unterminated line when it ends). */
function lineSplitter(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  };
}

/** Wait for a pipeline stage; keep the end of its stderr and pass its stdout and stderr lines on if asked. */
function collect(
  child: ChildProcess,
  command: string,
  onStdoutLine?: (line: string) => void,
  onStderrLine?: (line: string) => void,
): Promise<RunResult> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  if (onStderrLine) child.stderr?.on('data', lineSplitter(onStderrLine));
  if (onStdoutLine && child.stdout) {
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onStdoutLine);
    });
    child.stdout.on('end', () => partial && onStdoutLine(partial));
  }
  return new Promise((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (error) => (spawnError = error));
    child.on('close', (code, signal) => {
      resolve({
        command,
        exitCode: code ?? (spawnError ? 127 : 128),
        signal: signal ?? undefined,
        stdout: '',
        stderr: maskSecrets(spawnError ? `${spawnError.message}\n${stderr}` : stderr),
      });
    });
  });
}

/** Throw a CommandError carrying the program's own words unless it exited 0. */
export function expectSuccess(result: RunResult, what: string): RunResult {
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim() || result.stdout.trim();
    throw new CommandError(
      `${what} failed (${result.signal ? `signal ${result.signal}` : `exit ${result.exitCode}`}): ` +
        `${result.command}${detail ? `\n${detail}` : ''}`,
      result.command,
      result.exitCode,
      result.stderr,
    );
  }
  return result;
}
