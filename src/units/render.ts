/**
 * Renders the unit files: the shared template units (nothing profile-specific in them) and each
 * profile's drop-ins. Pure: reads the templates once, never touches the target system.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { fileURLToPath } from 'node:url';
import type { Paths } from '../paths.js';
import { profileFile } from '../paths.js';
import { FIELDS } from '../profile/fields.js';
import type { Profile } from '../profile/load.js';
import type { Entrypoint } from './entrypoint.js';
import { JOB_NAMES, NOTIFY_TEMPLATE, UNIT_TYPES, dropInFile, instanceUnit, templateUnit, type JobName, type UnitType } from './names.js';
import { escapeSpecifiers, execWord, pathListItem } from './systemd-escape.js';

export interface UnitFile {
  /** Path relative to the unit folder, e.g. "restic@.timer" or "restic@myconf.timer.d/50-restic-systemd.conf". */
  relativePath: string;
  text: string;
}

export interface RenderContext {
  paths: Paths;
  entrypoint: Entrypoint;
}

const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const handlebars = Handlebars.create();
const compiled = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  let compiledTemplate = compiled.get(name);
  if (!compiledTemplate) {
    if (compiled.size === 0) {
      for (const partial of fs.readdirSync(path.join(TEMPLATE_DIR, 'partials'))) {
        handlebars.registerPartial(path.basename(partial, '.hbs'), fs.readFileSync(path.join(TEMPLATE_DIR, 'partials', partial), 'utf8'));
      }
    }
    const source = fs.readFileSync(path.join(TEMPLATE_DIR, `${name}.hbs`), 'utf8');
    compiledTemplate = handlebars.compile(source, { strict: true, noEscape: true });
    compiled.set(name, compiledTemplate);
  }
  return compiledTemplate;
}

/** Per-job fields of the model: the schedule, delay, timeout keys of each job. */
export const JOB_FIELDS = {
  backup: { schedule: 'BACKUP_SCHEDULE', randomizedDelay: 'BACKUP_RANDOMIZED_DELAY', timeout: 'BACKUP_TIMEOUT' },
  maintenance: { schedule: 'BACKUP_MAINTENANCE_SCHEDULE', randomizedDelay: 'BACKUP_MAINTENANCE_RANDOMIZED_DELAY', timeout: 'BACKUP_MAINTENANCE_TIMEOUT' },
  'pg-backup': { schedule: 'PG_BACKUP_SCHEDULE', randomizedDelay: 'PG_BACKUP_RANDOMIZED_DELAY', timeout: 'PG_BACKUP_TIMEOUT' },
  'pg-verify': { schedule: 'PG_VERIFY_SCHEDULE', randomizedDelay: 'PG_VERIFY_RANDOMIZED_DELAY', timeout: 'PG_VERIFY_TIMEOUT' },
} as const satisfies Record<JobName, Record<string, keyof typeof FIELDS>>;

/** The template units shared by every profile; their defaults are the model's defaults. */
export function renderTemplateUnits(context: RenderContext): UnitFile[] {
  const { paths, entrypoint } = context;
  const entry = [entrypoint.node, entrypoint.cli].map(execWord).join(' ');
  const configDirOption = `--config-dir ${execWord(paths.configDir)}`;
  const notify = { relativePath: NOTIFY_TEMPLATE, text: template(NOTIFY_TEMPLATE)({ unit: NOTIFY_TEMPLATE, entrypoint: `${entry} ${configDirOption}`, capabilities: '' }) };
  const jobUnits = JOB_NAMES.flatMap((job) =>
    UNIT_TYPES.map((type) => {
      const unit = templateUnit(job, type);
      const keys = JOB_FIELDS[job];
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
          schedule: (FIELDS[keys.schedule] as { default?: string }).default ?? 'weekly',
          randomizedDelay: FIELDS[keys.randomizedDelay].default,
          timeout: FIELDS[keys.timeout].default,
          // runuser (PG_OS_USER) needs to change user; the other jobs never do.
          capabilities: ['CAP_DAC_READ_SEARCH', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_CHOWN', ...(job.startsWith('pg-') ? ['CAP_SETUID', 'CAP_SETGID'] : [])].join(' '),
          // The database job's safety net: runs however the main process ended, even after SIGKILL.
          stopPost: job === 'pg-backup' ? [`${entry} ${configDirOption} run pg-cleanup %i`] : [],
        }),
      };
    }),
  );
  return [...jobUnits, notify];
}

/**
 * The jobs a profile runs on a schedule: the file backup when it is on (profile.fileBackup), the
 * maintenance of the repository always, the database dump when configured, the restore drill
 * when scheduled.
 */
export function profileJobs(profile: Profile): JobName[] {
  return profileServiceJobs(profile).filter((job) => job !== 'pg-verify' || profile.values.PG_VERIFY_SCHEDULE !== undefined);
}

/** The jobs whose service can run for a profile, by a timer or by `systemctl start`: the restore drill's whenever there is a database. */
function profileServiceJobs(profile: Profile): JobName[] {
  return JOB_NAMES.filter((job) => (job === 'backup' ? profile.fileBackup : job === 'maintenance' || profile.databaseConfigured));
}

/** A profile's drop-ins: the per-profile schedule, delay, timeout and writable paths (a local repository, the metrics folder). */
export function renderProfileDropIns(profile: Profile, context: RenderContext): UnitFile[] {
  const values = profile.values;
  const timers = profileJobs(profile);
  const units: Array<[JobName, UnitType]> = profileServiceJobs(profile).flatMap((job) =>
    UNIT_TYPES.filter((type) => type === 'service' || timers.includes(job)).map((type): [JobName, UnitType] => [job, type]),
  );
  return units.map(([job, type]) => {
    const unit = instanceUnit(job, type, profile.name);
    const keys = JOB_FIELDS[job];
    const writable = [profile.localRepository, values.BACKUP_METRICS_DIR].filter((item): item is string => item !== undefined);
    // "-": a path that is missing (a repository before init) must not fail the unit's namespace set-up (226/NAMESPACE); restic then says what is missing.
    const readWritePaths = writable.map((item) => pathListItem(`-${item}`));
    return {
      relativePath: dropInFile(unit),
      text: template(`drop-in.${type}`)({
        unit,
        profile: profile.name,
        profileFile: profileFile(context.paths, profile.name),
        schedule: escapeSpecifiers(values[keys.schedule] ?? ''),
        randomizedDelay: values[keys.randomizedDelay],
        timeout: values[keys.timeout],
        readWritePaths,
      }),
    };
  });
}

/** Everything `install` writes for these profiles: the templates, then each profile's drop-ins. */
export function renderUnits(profiles: readonly Profile[], context: RenderContext): UnitFile[] {
  return [...renderTemplateUnits(context), ...profiles.flatMap((profile) => renderProfileDropIns(profile, context))];
}
