/**
 * `import <files…> --name <name>`: the env files, shell files and units of another restic setup
 * become one profile that means the same (paths, excludes, retention, host, tags, schedule), with
 * a decision for every key. Nothing is written while a decision would lose what the old setup
 * backed up or kept; --dry-run writes nothing at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { cliPrefix } from './cli-prefix.js';
import { EnvironmentError, ExitCode, JobError, UsageError, formatIssue } from '../errors.js';
import { writeFileSafely, makeFolder } from '../files/write.js';
import { readSources } from '../import/sources.js';
import { translate, type Decision } from '../import/translate.js';
import { addSecret } from '../log.js';
import { onHost, profileFile, targetPath } from '../paths.js';
import { profileTextIssues } from '../profile/load.js';
import { assertProfileName } from '../profile/name.js';
import { profileText } from '../profile/profile-text.js';
import { hideSecretsInLine, secretValues } from '../profile/secrets.js';
import { systemdVersion } from '../tools/systemctl.js';
import { describeForeignUnit, enabledForeignResticUnits, foreignResticUnitFiles } from '../import/foreign-units.js';
import { allTemplateUnits } from '../units/names.js';

export interface ImportOptions {
  name: string;
  paths: string[];
  set: string[];
  drop: string[];
  dryRun: boolean;
  force: boolean;
}

function parseSet(items: readonly string[]): Array<[string, string]> {
  return items.map((item) => {
    const equals = item.indexOf('=');
    if (equals <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(item.slice(0, equals)))
      throw new UsageError(`--set ${JSON.stringify(item)}: write KEY=VALUE, e.g. --set BACKUP_KEEP_DAILY=7`);
    return [item.slice(0, equals), item.slice(equals + 1)];
  });
}

const LABEL: Record<Decision['outcome'], string> = {
  kept: 'kept',
  translated: 'translated',
  dropped: 'dropped',
  blocking: 'BLOCKING',
};

function formatDecision(decision: Decision): string {
  return (
    `  ${LABEL[decision.outcome].padEnd(10)} ` +
    `${decision.from}${decision.to !== undefined ? ` → ${decision.to}` : ''}: ${decision.why}`
  );
}

export async function importCommand(context: Context, files: readonly string[], options: ImportOptions): Promise<void> {
  const { paths } = context;
  assertProfileName(options.name);
  for (const given of [...files, ...options.paths]) {
    if (/[\u0000-\u001f\u007f]/.test(given))
      throw new UsageError(`${JSON.stringify(given)} holds a control character; nothing was changed`);
  }
  const set = parseSet(options.set);
  const sourceFiles = files.map((file) => targetPath(context.paths, file));
  const file = profileFile(paths, options.name);
  const passwordFile = path.posix.join(paths.configDir, `${options.name}.password`);

  const systemdMajor = await systemdVersion(context.runner).catch(() => 257);
  const sources = readSources(paths, sourceFiles, options.name, systemdMajor);
  const translation = translate(
    sources.variables,
    sources.units,
    {
      name: options.name,
      passwordFile,
      paths: options.paths.map((given) => targetPath(context.paths, given)),
      set,
      drop: options.drop,
    },
    sources.scripts,
    sources.decisions,
  );
  if (translation.unusedDrops.length > 0)
    throw new UsageError(
      `--drop ${translation.unusedDrops.join(', ')}: names no BLOCKING line nor key of the files; nothing was ` +
        'changed (give the KEY, FILE:LINE or unit FILE a BLOCKING line starts with)',
    );
  const entries = translation.entries;
  // Every secret the files hold, used or not, is masked in what import prints.
  secretValues(Object.fromEntries(sources.variables.map((variable) => [variable.key, variable.value]))).forEach(
    addSecret,
  );
  secretValues(Object.fromEntries(entries)).forEach(addSecret);
  if (translation.password) addSecret(translation.password);
  // Lines shown as written (refused, or a command line) may hold secrets no variable registered.
  const decisions = translation.decisions.map((decision) => ({
    ...decision,
    from: hideSecretsInLine(decision.from),
    why: hideSecretsInLine(decision.why),
  }));

  const comments = [
    `Imported by restic-systemd import from ${sourceFiles.join(', ')}.`,
    'The keys are in man restic-systemd.conf; run restic-systemd validate after editing.',
  ];
  const written = profileText(comments, entries);
  for (const key of written.unwritable)
    decisions.push({
      from: key,
      outcome: 'blocking',
      why:
        'its value holds characters a profile cannot carry (a backslash, or both kinds of quote): put it in a ' +
        'file (a password into RESTIC_PASSWORD_FILE) and import again with --set',
    });
  const checked = profileTextIssues(options.name, file, written.text);
  for (const issue of checked.issues)
    decisions.push({
      from: issue.key ?? file,
      outcome: 'blocking',
      why: `the profile would not be valid: ${formatIssue(issue)}`,
    });
  for (const warning of checked.warnings)
    decisions.push({
      from: warning.key ?? file,
      outcome: 'dropped',
      why: `kept in the profile, but: ${warning.message}`,
    });

  const foreign = enabledForeignResticUnits(paths);
  const blocking = decisions.filter((decision) => decision.outcome === 'blocking');
  const exists = fs.existsSync(onHost(paths, file));
  // Units of the old setup under restic-systemd's own names (a hand-made restic@.service) must go before install.
  const templates = new Set(allTemplateUnits());
  const clashing = foreignResticUnitFiles(paths).filter((unit) => templates.has(unit.name));
  const clashingFiles = clashing
    .flatMap((unit) => [unit.file, unit.file.replace(/\.service$/, '.timer')])
    .filter((item) => fs.existsSync(onHost(paths, item)));
  const clashingEnabled = foreign.filter((unit) => clashing.some((item) => item.file === unit.file));
  const next = [
    ...(clashing.length > 0
      ? [
          ...clashingEnabled.map((unit) => `systemctl disable --now ${unit.unit}`),
          `mv ${clashingFiles.join(' ')} /root/`,
          'systemctl daemon-reload',
        ]
      : []),
    `${cliPrefix(context)} validate ${options.name}`,
    `${cliPrefix(context)} install ${options.name}`,
    ...foreign.filter((unit) => !clashingEnabled.includes(unit)).map((unit) => `systemctl disable --now ${unit.unit}`),
  ];
  const writes: string[] = [];
  if (blocking.length === 0 && !options.dryRun) {
    if (exists && !options.force)
      throw new UsageError(
        `${file} exists already; nothing was changed. Give --force to replace it (the old one is kept as ` +
          `${file}.old), or import under another --name`,
      );
    makeFolder(paths.root, paths.configDir, 0o700);
    if (translation.password !== undefined) {
      const hostPassword = onHost(paths, passwordFile);
      if (fs.existsSync(hostPassword)) {
        if (fs.readFileSync(hostPassword, 'utf8').trim() !== translation.password) {
          throw new EnvironmentError(
            `${passwordFile} exists and holds another password; nothing was changed. Move it aside, or import ` +
              `under another --name`,
          );
        }
      } else {
        writeFileSafely(paths.root, passwordFile, `${translation.password}\n`, { mode: 0o600, exclusive: true });
        writes.push(passwordFile);
      }
    }
    if (exists) writeFileSafely(paths.root, `${file}.old`, fs.readFileSync(onHost(paths, file)), { mode: 0o600 });
    writeFileSafely(paths.root, file, written.text, { mode: 0o600 });
    writes.push(file);
  }

  if (context.json) {
    context.print(
      JSON.stringify(
        {
          name: options.name,
          profile: file,
          text: written.text,
          written: writes,
          decisions,
          foreignUnits: foreign,
          next: blocking.length === 0 ? next : [],
        },
        null,
        2,
      ),
    );
  } else {
    const lines = [`import of ${sourceFiles.join(', ')} as ${file}:`, ...decisions.map(formatDecision)];
    if (options.dryRun || blocking.length > 0)
      lines.push(
        `the profile${blocking.length > 0 ? ', once the blocking lines are settled' : ''}:`,
        ...written.text
          .trimEnd()
          .split('\n')
          .map((line) => `  ${line}`),
      );
    lines.push(...writes.map((item) => `wrote ${item} (mode 0600)`));
    if (foreign.length > 0)
      lines.push('units of another setup that run restic:', ...foreign.map((unit) => `  ${describeForeignUnit(unit)}`));
    if (blocking.length === 0)
      lines.push(
        `next${options.dryRun ? ' (after the import without --dry-run)' : ''}:`,
        ...next.map((item) => `  ${item}`),
      );
    context.print(lines.join('\n'));
  }
  if (blocking.length > 0) {
    throw new JobError(
      `${blocking.length} thing(s) must be settled before the profile can mean what the old setup did ` +
        `(BLOCKING above); nothing was written`,
      ExitCode.InvalidProfile,
    );
  }
}
