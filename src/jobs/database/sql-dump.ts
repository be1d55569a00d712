/**
 * PG_DUMP_FORMAT=sql: one pg_dumpall SQL file, streamed into restic while replay is paused
 * (PG_DUMP_MODE=stream), or written to a spool file first and stored once replay is resumed
 * (PG_DUMP_MODE=spool, or auto when the spool can take it).
 */
import { formatBytes } from '../../reporting/format.js';
import fs from 'node:fs';
import { ExitCode } from '../../errors.js';
import { toolAvailable } from '../../exec/tools.js';
import { onHost } from '../../paths.js';
import type { Profile } from '../../profile/model.js';
import {
  COMPRESSORS,
  SPOOL_FORMATS,
  dumpStages,
  dumpStderrWorthShowing,
  spoolStages,
  unspoolStages,
} from '../../tools/postgres.js';
import { dumpIntoRestic, type DumpOutcome } from './dump-into-restic.js';
import type { DumpRun, DumpWriter } from './dump-writer.js';
import { createSpoolFile, removeSpoolFile, spoolBytes, spoolFile } from './spool.js';

/** The file in the snapshot: postgres-<host>.sql, .sql.gz or .sql.zst. */
export const dumpFileName = (profile: Profile, host: string) =>
  `postgres-${host}${COMPRESSORS[profile.values.PG_DUMP_COMPRESSION].suffix}`;

/** pg_dumpall [| compressor] straight into restic: replay stays paused until restic has stored the last byte. */
export function streamWriter(run: DumpRun): DumpWriter {
  const { restic, host } = run;
  const { profile } = restic;
  return {
    write: (tags) =>
      dumpIntoRestic(restic, dumpStages(profile, { parallelGzip: toolAvailable('pigz') }), {
        fileName: dumpFileName(profile, host),
        host,
        tags: [...tags, 'format:sql'],
      }),
    finish: async () => undefined,
  };
}

/**
 * pg_dumpall into the spool file while paused; restic starts reading the finished spool (under the
 * same tags) while the checks run and replay is resumed. (Read while still being written, restic
 * would take the cores pg_dumpall needs and make the pause longer: measured in docs/benchmarks.md.)
 */
export function spoolWriter(run: DumpRun): DumpWriter {
  const { restic, host, runId } = run;
  const { context, profile } = restic;
  const { paths, log } = context;
  const file = spoolFile(paths, profile, runId);
  const stopReading = new AbortController();
  let reading: Promise<DumpOutcome> | undefined;
  return {
    onDisk: { spool: file },
    write: async () => {
      const fd = createSpoolFile(paths, file);
      let results;
      try {
        results = await context.runner.pipeline(spoolStages(profile), { stdout: fd });
      } finally {
        fs.closeSync(fd);
      }
      const warnings = dumpStderrWorthShowing(results[0]!.stderr.split('\n'));
      // The last stage that failed is the cause: a compressor that cannot write (disk full) breaks the dump's pipe too.
      const failed = results.filter((result) => result.exitCode !== 0 || result.signal).at(-1);
      if (!failed) return { warnings };
      const said = failed.stderr.trim().split('\n').slice(-5).join('\n');
      const how = `exit ${failed.exitCode}${failed.signal ? `, ${failed.signal}` : ''}`;
      return {
        warnings,
        failure: {
          message: `${failed.command} failed while spooling (${how})${said ? `:\n${said}` : ''}`,
          exitCode: ExitCode.DumpFailed,
        },
      };
    },
    dumped: (tags) => {
      // While replay is resumed: restic's start-up (its key, the index) overlaps the end of the pause, not the checks.
      const stages = unspoolStages(profile, onHost(paths, file), { parallelGzip: toolAvailable('pigz') });
      const target = { fileName: dumpFileName(profile, host), host, tags: [...tags, 'format:sql'] };
      reading = dumpIntoRestic(restic, stages, { ...target, cancel: stopReading.signal });
      // Awaited once the standby is restored; a rejection must not go unhandled meanwhile.
      reading.catch(() => undefined);
    },
    store: async () => {
      const format = SPOOL_FORMATS[profile.values.PG_SPOOL_COMPRESSION].label;
      const spooled = spoolBytes(paths, file);
      log.info(
        `spooled ${formatBytes(spooled)} (${spooled} bytes, ${format}); replay is resumed, restic reads the spool`,
      );
      if (!reading) throw new Error('the spool was written but its reader never started');
      return reading;
    },
    finish: async () => {
      // A run that does not count: restic stops reading, and a snapshot it made is forgotten by the caller.
      stopReading.abort();
      await reading?.catch(() => undefined);
      removeSpoolFile(paths, file);
    },
  };
}
