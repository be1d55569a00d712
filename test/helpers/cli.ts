/** Runs the built CLI (dist/cli.js) as a user would, and returns its exit code and output. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(PROJECT, 'dist/cli.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return { exitCode: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking this process (when the test itself must answer the CLI, e.g. as a server). */
export function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 128, stdout, stderr }));
  });
}

/** The same with exactly this environment, nothing of the test process's: as systemd starts a unit. */
export function runCliWithEnvironment(args: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  if (result.error) throw result.error;
  return { exitCode: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}
