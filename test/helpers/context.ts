/**
 * Test contexts: a temp target root with the real runner, and a recording systemctl for the two
 * things that need a running systemd (daemon-reload and --now). Everything else runs for real with
 * `systemctl --root=<temp>`.
 */
import type { Context } from '../../src/context.js';
import { createRunner, type RunResult, type Runner } from '../../src/exec/runner.js';
import { memoryLogger } from '../../src/log.js';
import { createPaths, type Paths } from '../../src/paths.js';
import { CLI } from './cli.js';

export interface TestContext extends Context {
  output: string[];
  calls: string[];
}

export function testContext(root: string, options: { online?: boolean; systemdBooted?: boolean } = {}): TestContext {
  const log = memoryLogger();
  const realRunner = createRunner(log);
  const paths: Paths = { ...createPaths({ root }), offline: !options.online };
  const calls: string[] = [];
  const output: string[] = [];
  const runner: Runner = options.online
    ? recordingSystemctl(realRunner, root, calls)
    : recordingRunner(realRunner, calls);
  return {
    paths,
    runner,
    log,
    print: (text) => output.push(text),
    json: false,
    systemdBooted: async () => options.systemdBooted ?? true,
    entrypoint: () => ({ node: process.execPath, cli: CLI }),
    output,
    calls,
  };
}

function recordingRunner(inner: Runner, calls: string[]): Runner {
  return {
    signalAll: (signal) => inner.signalAll(signal),
    pipeline: (stages, options) => inner.pipeline(stages, options),
    run(tool, args, options) {
      calls.push([typeof tool === 'string' ? tool : tool.program, ...args].join(' '));
      return inner.run(tool, args, options);
    },
  };
}

/** systemctl as on a booted host, backed by the real systemctl --root=<root>; reload and --now are recorded only. */
export function recordingSystemctl(inner: Runner, root: string, calls: string[]): Runner {
  return {
    signalAll: (signal) => inner.signalAll(signal),
    pipeline: (stages, options) => inner.pipeline(stages, options),
    async run(tool, args, options): Promise<RunResult> {
      if (tool !== 'systemctl') return inner.run(tool, args, options);
      calls.push(['systemctl', ...args].join(' '));
      if (args[0] === 'daemon-reload')
        return { command: 'systemctl daemon-reload', exitCode: 0, stdout: '', stderr: '' };
      // What a running systemd has loaded: it answers for the units it knows; none are known here.
      if (args[0] === 'show') return { command: `systemctl ${args.join(' ')}`, exitCode: 0, stdout: '', stderr: '' };
      return inner.run('systemctl', [`--root=${root}`, ...args.filter((arg) => arg !== '--now')], options);
    },
  };
}
