/**
 * Sending a dump into restic as one snapshot, with the safest means the restic release offers.
 * restic 0.17 and newer run the dump themselves (backup --stdin-from-command, through
 * `restic-systemd internal-pipeline`, which gives the dump none of restic's secrets) and save no
 * snapshot when it fails. Older releases read it from a kernel pipe (backup --stdin) and save
 * whatever arrived, so the caller forgets the snapshot of a run that does not count. Either way the
 * data goes from process to process through the kernel, never through this process.
 */
import { HELD_LOCK_VARIABLE, STAGES_VARIABLE, heldLockNote, type StageSpec } from '../../exec/stage-spec.js';
import { ExitCode, type ExitCode as Code } from '../../errors.js';
import { dumpStderrWorthShowing } from '../../tools/postgres.js';
import {
  RESTIC_EXIT,
  classifyResticFailure,
  parseBackupLine,
  readableResticOutput,
  resticFeatures,
  type BackupSummary,
} from '../../tools/restic.js';
import type { PipelineStage, RunResult } from '../../exec/runner.js';
import { checkedToolBinary } from '../../exec/tools.js';
import {
  keptOpen,
  resticStage,
  retryWatchdog,
  unreachableFailure,
  withSshReason,
  type Restic,
} from '../restic-call.js';

export interface DumpTarget {
  /** The file name in the snapshot (no "/": restic 0.18.0 refuses one in --stdin-filename). */
  fileName: string;
  host: string;
  tags: readonly string[];
  /** Aborting it stops restic (SIGINT): a run that no longer counts. */
  cancel?: AbortSignal;
}

export interface DumpOutcome {
  /** Why the dump does not count; undefined when restic saved it whole. */
  failure?: { message: string; exitCode: Code };
  summary?: BackupSummary;
  /** What the dump said on stderr that an operator should see even when it succeeded. */
  warnings: string[];
}

function tail(text: string, lines = 5): string {
  return readableResticOutput(text).slice(-lines).join('\n');
}

function backupArgs(target: DumpTarget): string[] {
  return [
    'backup',
    '--json',
    '--host',
    target.host,
    ...target.tags.flatMap((tag) => ['--tag', tag]),
    '--stdin-filename',
    target.fileName,
  ];
}

export async function dumpIntoRestic(
  restic: Restic,
  stages: readonly PipelineStage[],
  target: DumpTarget,
): Promise<DumpOutcome> {
  return resticFeatures(restic.version).stdinFromCommand
    ? resticRunsTheDump(restic, stages, target)
    : dumpThroughPipe(restic, stages, target);
}

/** restic ≥ 0.17: `restic backup --stdin-from-command -- <this CLI> internal-pipeline`. */
async function resticRunsTheDump(
  restic: Restic,
  stages: readonly PipelineStage[],
  target: DumpTarget,
): Promise<DumpOutcome> {
  const { context } = restic;
  // libpq's variables (PGPASSWORD among them) are named, not copied: the stage takes them from restic's environment.
  const isLibpq = (key: string) => /^PG[A-Z]+$/.test(key);
  const spec: StageSpec[] = stages.map((stage) => ({
    program: checkedToolBinary(stage.tool),
    args: [...stage.args],
    env: Object.fromEntries(Object.entries(stage.env).filter(([key]) => !isLibpq(key))),
    keep: Object.keys(stage.env).filter(isLibpq),
  }));
  const entrypoint = context.entrypoint();
  let summary: BackupSummary | undefined;
  const cancel = new AbortController();
  target.cancel?.addEventListener('abort', () => cancel.abort());
  const watchdog = retryWatchdog(restic, () => cancel.abort());
  const kept = keptOpen(restic);
  // With no fd3 or fd4, restic has the lock as its fd 3, and so has the command it starts.
  const lockNote: Record<string, string> =
    kept.keepOpen === undefined ? {} : { [HELD_LOCK_VARIABLE]: heldLockNote(kept.keepOpen, 3) };
  let result: RunResult;
  try {
    result = await context.runner.run(
      'restic',
      [
        ...restic.globalArgs,
        ...backupArgs(target),
        '--stdin-from-command',
        '--',
        entrypoint.node,
        entrypoint.cli,
        'internal-pipeline',
      ],
      {
        ...kept,
        env: { ...restic.env, [STAGES_VARIABLE]: JSON.stringify(spec), ...lockNote },
        onStdoutLine: (line) => (summary = parseBackupLine(line) ?? summary),
        onStderrLine: watchdog.onStderrLine,
        cancel: cancel.signal,
        killSignal: 'SIGINT',
      },
    );
  } finally {
    watchdog.stop();
  }
  // restic relays the command's stderr as "subprocess <program>: <line>".
  const dumpLines = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('subprocess '))
    .map((line) => line.replace(/^subprocess [^:]*: /, ''));
  const warnings = dumpStderrWorthShowing(dumpLines).filter((line) => !line.startsWith('restic-systemd: '));
  if (watchdog.expired) {
    const failure = unreachableFailure(restic, 'restic backup', watchdog.expired);
    return { failure: { message: failure.message, exitCode: failure.exitCode }, warnings };
  }
  if (result.exitCode !== 0 && /command failed/.test(result.stderr)) {
    return {
      failure: {
        message: `the dump failed; restic saved no snapshot:\n${tail(dumpLines.join('\n')) || tail(result.stderr)}`,
        exitCode: ExitCode.DumpFailed,
      },
      warnings,
    };
  }
  if (result.exitCode !== 0)
    return { failure: resticFailed(restic, await withSshReason(restic, result)), summary, warnings };
  if (!summary?.snapshotId)
    return {
      failure: {
        message: 'restic backup exited 0 without a summary: the snapshot cannot be vouched for',
        exitCode: ExitCode.ResticFailed,
      },
      warnings,
    };
  return { summary, warnings };
}

/** restic < 0.17: dump [| compressor] | restic backup --stdin. */
async function dumpThroughPipe(
  restic: Restic,
  stages: readonly PipelineStage[],
  target: DumpTarget,
): Promise<DumpOutcome> {
  let summary: BackupSummary | undefined;
  const cancel = new AbortController();
  target.cancel?.addEventListener('abort', () => cancel.abort());
  const watchdog = retryWatchdog(restic, () => cancel.abort());
  let results: RunResult[];
  try {
    const backup = resticStage(restic, [...backupArgs(target), '--stdin'], {
      onStderrLine: watchdog.onStderrLine,
      cancel: cancel.signal,
      killSignal: 'SIGINT',
    });
    results = await restic.context.runner.pipeline([...stages, backup], {
      onStdoutLine: (line) => (summary = parseBackupLine(line) ?? summary),
    });
  } finally {
    watchdog.stop();
  }
  const resticResult = results[results.length - 1]!;
  const dumpResults = results.slice(0, -1);
  const warnings = dumpStderrWorthShowing(dumpResults.flatMap((result) => result.stderr.split('\n')));
  if (watchdog.expired) {
    const failure = unreachableFailure(restic, 'restic backup --stdin', watchdog.expired);
    return { failure: { message: failure.message, exitCode: failure.exitCode }, summary, warnings };
  }
  // restic first: when restic fails the dump loses its reader and fails too (broken pipe), while a
  // failed dump leaves restic to store the truncated stream and exit 0.
  if (resticResult.exitCode !== 0)
    return { failure: resticFailed(restic, await withSshReason(restic, resticResult)), summary, warnings };
  const failed = dumpResults.find((result) => result.exitCode !== 0 || result.signal);
  if (failed) {
    return {
      failure: {
        message:
          `${failed.command} failed (exit ` +
          `${failed.exitCode}${failed.signal ? `, ${failed.signal}` : ''}):\n${tail(failed.stderr)}`,
        exitCode: ExitCode.DumpFailed,
      },
      summary,
      warnings,
    };
  }
  if (!summary?.snapshotId)
    return {
      failure: {
        message: 'restic backup --stdin exited 0 without a summary: the snapshot cannot be vouched for',
        exitCode: ExitCode.ResticFailed,
      },
      warnings,
    };
  return { summary, warnings };
}

function resticFailed(restic: Restic, result: RunResult): { message: string; exitCode: Code } {
  if (result.exitCode === RESTIC_EXIT.incomplete)
    return {
      message:
        `restic saved an incomplete snapshot (exit 3): the dump was empty or ` + `unreadable:\n${tail(result.stderr)}`,
      exitCode: ExitCode.DumpFailed,
    };
  const { meaning, exitCode } = classifyResticFailure(result.exitCode, result.stderr, restic.profile.name);
  return {
    message: `restic backup failed: ${meaning}\n${tail(result.stderr)}`,
    exitCode: exitCode ?? ExitCode.ResticFailed,
  };
}
