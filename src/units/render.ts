/**
 * Renders the unit files: the shared template units (nothing profile-specific in them) and each
 * profile's drop-ins. Pure: reads the templates once, never touches the target system.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { TEMPLATE_DIR } from '../package-files.js';
import { profileFile, type Paths } from '../paths.js';
import { fieldOf } from '../profile/fields.js';
import type { Profile } from '../profile/model.js';
import type { Entrypoint } from '../context.js';
import {
  GENERATOR_NAME,
  NOTIFY_TEMPLATE,
  UNIT_TYPES,
  dropInFile,
  instanceUnit,
  templateUnit,
  type UnitType,
} from './names.js';
import {
  JOBS,
  UNIT_JOBS,
  jobKeys,
  profileJobs,
  profileServiceJobs,
  type JobSpec,
  type UnitJob,
} from '../profile/jobs.js';
import { credentialFile } from '../profile/credentials.js';
import { SETTINGS_VARIABLE, encodeSettings, unitSettings } from './settings.js';
import { escapeSpecifiers, execWord, pathListItem, shellWord } from '../formats/systemd-escape.js';

export interface UnitFile {
  /** Path relative to the unit folder, e.g. "restic@.timer" or "restic@myconf.timer.d/50-restic-systemd.conf". */
  relativePath: string;
  text: string;
}

/** The generator script: an executable in the generator folder, not a unit. */
export interface GeneratorFile {
  /** As the target system sees it: /etc/systemd/system-generators/restic-systemd. */
  path: string;
  text: string;
}

export interface RenderContext {
  paths: Paths;
  entrypoint: Entrypoint;
}

const handlebars = Handlebars.create();
const compiled = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  let compiledTemplate = compiled.get(name);
  if (!compiledTemplate) {
    if (compiled.size === 0) {
      for (const partial of fs.readdirSync(path.join(TEMPLATE_DIR, 'partials'))) {
        handlebars.registerPartial(
          path.basename(partial, '.hbs'),
          fs.readFileSync(path.join(TEMPLATE_DIR, 'partials', partial), 'utf8'),
        );
      }
    }
    const source = fs.readFileSync(path.join(TEMPLATE_DIR, `${name}.hbs`), 'utf8');
    compiledTemplate = handlebars.compile(source, { strict: true, noEscape: true });
    compiled.set(name, compiledTemplate);
  }
  return compiledTemplate;
}

// Every job reads, and keeps the owners of, what it backs up and restores.
const FILE_CAPABILITIES = ['CAP_DAC_READ_SEARCH', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_CHOWN'];
// runuser (PG_OS_USER) needs to change user; the other jobs never do.
const USER_CAPABILITIES = ['CAP_SETUID', 'CAP_SETGID'];

/** The template units shared by every profile; their defaults are the model's defaults. */
export function renderTemplateUnits(context: RenderContext): UnitFile[] {
  const { paths, entrypoint } = context;
  const entry = [entrypoint.node, entrypoint.cli].map(execWord).join(' ');
  const configDirOption = `--config-dir ${execWord(paths.configDir)}`;
  const notify = {
    relativePath: NOTIFY_TEMPLATE,
    text: template(NOTIFY_TEMPLATE)({
      unit: NOTIFY_TEMPLATE,
      entrypoint: `${entry} ${configDirOption}`,
      capabilities: '',
    }),
  };
  const jobUnits = UNIT_JOBS.flatMap((job) =>
    UNIT_TYPES.map((type) => {
      const unit = templateUnit(job, type);
      const keys = jobKeys(job);
      const spec: JobSpec = JOBS[job];
      return {
        relativePath: unit,
        text: template(unit)({
          unit,
          configDir: escapeSpecifiers(paths.configDir),
          cacheDir: escapeSpecifiers(paths.cacheDir),
          cacheDirectoryName: path.posix.relative('/var/cache', paths.cacheDir),
          stateDirectoryName: path.posix.relative('/var/lib', paths.stateDir),
          entrypoint: `${entry} ${configDirOption}`,
          // pg-verify has no default schedule: its template's is only a placeholder, every instance has a drop-in.
          schedule: fieldOf(keys.schedule)?.default ?? 'weekly',
          randomizedDelay: fieldOf(keys.randomizedDelay)?.default,
          timeout: fieldOf(keys.timeout)?.default,
          capabilities: [...FILE_CAPABILITIES, ...(spec.changesUser ? USER_CAPABILITIES : [])].join(' '),
          // However the main process ended, even after SIGKILL: the database job's safety net, then the status of
          // a run that could not write it.
          stopPost: [
            ...(spec.stopPost ? [`${entry} ${configDirOption} run ${spec.stopPost} %i`] : []),
            `${entry} ${configDirOption} ended ${job} %i`,
          ],
        }),
      };
    }),
  );
  return [...jobUnits, notify];
}

/**
 * A profile's drop-ins: the per-profile schedule, delay, timeout and writable paths (a local
 * repository, the metrics folder), and in each service's the settings they were made from.
 */
export function renderProfileDropIns(profile: Profile, context: RenderContext): UnitFile[] {
  const timers = profileJobs(profile);
  const units: Array<[UnitJob, UnitType]> = profileServiceJobs(profile).flatMap((job) =>
    UNIT_TYPES.filter((type) => type === 'service' || timers.includes(job)).map((type): [UnitJob, UnitType] => [
      job,
      type,
    ]),
  );
  return units.map(([job, type]) => {
    const unit = instanceUnit(job, type, profile.name);
    const settings = unitSettings(profile, job);
    // "-": a path that is missing (a repository before init) must not fail the unit's namespace set-up
    // (226/NAMESPACE); restic then says what is missing.
    const readWritePaths = settings.writablePaths.map((item) => pathListItem(`-${item}`));
    return {
      relativePath: dropInFile(unit),
      text: template(`drop-in.${type}`)({
        unit,
        profile: profile.name,
        profileFile: profileFile(context.paths, profile.name),
        schedule: escapeSpecifiers(settings.schedule ?? ''),
        randomizedDelay: settings.randomizedDelay,
        timeout: settings.timeout,
        readWritePaths,
        credentials: (settings.credentials ?? []).map((key) => `${key}:${credentialFile(profile.name, key)}`),
        settings: `${SETTINGS_VARIABLE}=${encodeSettings(settings)}`,
      }),
    };
  });
}

/** restic-systemd's systemd generator, which runs `restic-systemd generate` at every daemon-reload. */
export function renderGenerator(context: RenderContext): GeneratorFile {
  const { paths, entrypoint } = context;
  const command = [entrypoint.node, entrypoint.cli, '--config-dir', paths.configDir].map(shellWord).join(' ');
  return {
    path: path.posix.join(paths.generatorDir, GENERATOR_NAME),
    text: template('restic-systemd-generator')({
      entrypoint: command,
      configDir: paths.configDir,
      normalDir: '/run/systemd/generator',
    }),
  };
}

/** Everything `install` writes for these profiles: the templates, then each profile's drop-ins. */
export function renderUnits(profiles: readonly Profile[], context: RenderContext): UnitFile[] {
  return [...renderTemplateUnits(context), ...profiles.flatMap((profile) => renderProfileDropIns(profile, context))];
}
