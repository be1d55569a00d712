/**
 * Every command of the CLI as data: its arguments, options and examples. cli.ts builds the
 * command line from it, and the reference of docs/commands.md and the man page are generated
 * from it, so that the three cannot disagree.
 */
import { JOB_NAMES } from '../profile/jobs.js';

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  describe: string;
  default?: string | boolean;
  /** How the value is written in usage lines: --out DIR. */
  value?: string;
  /** May be given more than once. */
  repeatable?: boolean;
  /** Must be given. */
  required?: boolean;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  array?: boolean;
  optional?: boolean;
  choices?: readonly string[];
}

export interface CommandSpec {
  /** The yargs command string: "render <name>". */
  command: string;
  summary: string;
  positionals: PositionalSpec[];
  options: OptionSpec[];
  examples: Array<[command: string, meaning: string]>;
  /** Not for operators (what units and restic run): left out of --help and the docs. */
  hidden?: boolean;
}

export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: 'root',
    type: 'string',
    value: 'DIR',
    describe:
      "Work on the system under DIR (an image, a container's root, a test folder): every system path is taken " +
      'under DIR, systemctl gets --root=DIR, and nothing is reloaded, started or stopped',
  },
  {
    name: 'config-dir',
    type: 'string',
    value: 'DIR',
    default: '/etc/restic',
    describe: 'The folder of the profiles (under --root, inside DIR)',
  },
  {
    name: 'json',
    type: 'boolean',
    default: false,
    describe:
      'Print the result as JSON on stdout (an object, or an array for list and validate; exec, notify and ' +
      'completion print none)',
  },
  {
    name: 'verbose',
    type: 'boolean',
    default: false,
    describe: 'Log every external command on stderr (secrets masked)',
  },
];

const NAME = { name: 'name', describe: 'Profile name (/etc/restic/<name>.conf)' };
const NAMES = { name: 'names', describe: 'Profile names', array: true };

export const COMMANDS: CommandSpec[] = [
  {
    command: 'setup <name>',
    summary: 'One command from nothing to a first backup: profile, password, repository, units, first run',
    positionals: [NAME],
    options: [
      { name: 'path', type: 'string', value: 'DIR', describe: 'What to back up (default /media/<name>)' },
      {
        name: 'repository',
        type: 'string',
        value: 'URL',
        describe: 'Where to (default /var/lib/restic/<name>; any restic repository location)',
      },
      {
        name: 'force',
        type: 'boolean',
        default: false,
        describe: 'Replace an existing profile (the old one is kept as <name>.conf.old)',
      },
    ],
    examples: [
      ['setup myconf --path /srv/data', 'back up /srv/data hourly into /var/lib/restic/myconf'],
      ['setup demo --root /srv/image --path /srv/image/data', 'the same inside an image, offline'],
    ],
  },
  {
    command: 'import <files..>',
    summary:
      'Turn the env or shell files (and the units) of another restic setup into a profile that means the ' +
      'same, saying what became of every key',
    positionals: [
      {
        name: 'files',
        describe: 'Env files, shell files and unit files, common ones first (a later file overrides an earlier one)',
        array: true,
      },
    ],
    options: [
      {
        name: 'name',
        type: 'string',
        value: 'NAME',
        required: true,
        describe: 'The profile to write (/etc/restic/<name>.conf)',
      },
      {
        name: 'path',
        type: 'string',
        value: 'DIR',
        repeatable: true,
        describe: 'What to back up, when the files do not say',
      },
      {
        name: 'set',
        type: 'string',
        value: 'KEY=VALUE',
        repeatable: true,
        describe: 'A key of the profile given by hand; it wins over the files, and settles what it covers',
      },
      {
        name: 'drop',
        type: 'string',
        value: 'WHAT',
        repeatable: true,
        describe:
          'Leave out what a BLOCKING line names (a KEY, a FILE:LINE of a script, or a unit FILE), deciding that ' +
          'it does not matter',
      },
      {
        name: 'dry-run',
        type: 'boolean',
        default: false,
        describe: 'Print the profile and every decision; write nothing',
      },
      {
        name: 'force',
        type: 'boolean',
        default: false,
        describe: 'Replace an existing profile (the old one is kept as <name>.conf.old)',
      },
    ],
    examples: [
      [
        'import /etc/restic/all.env /etc/restic/home.env --name home',
        "a layered layout: a common file first, then the profile's (add --dry-run to only see it)",
      ],
      [
        'import /etc/restic/b2_env.sh --name laptop --path /home',
        'a shell file sourced by a backup script, with the path its script backed up',
      ],
    ],
  },
  {
    command: 'render <name>',
    summary: 'Print the unit files install would write for a profile, touching nothing',
    positionals: [NAME],
    options: [
      {
        name: 'out',
        type: 'string',
        value: 'DIR',
        describe:
          "Write the files into DIR instead of printing them (a folder of root's or yours, not writable by others)",
      },
    ],
    examples: [
      ['render myconf', 'show the units and drop-ins of /etc/restic/myconf.conf'],
      ['render myconf --out /root/units', 'write them into /root/units'],
    ],
  },
  {
    command: 'install <names..>',
    summary:
      'Validate the profiles, write their units and the generator, reload systemd if anything changed, and ' +
      'enable the timers',
    positionals: [NAMES],
    options: [],
    examples: [
      [
        'install myconf',
        'install and start restic@myconf.timer and restic-maintenance@myconf.timer (pg-backup@myconf.timer ' +
          'too if it has a database)',
      ],
      ['install myconf --root /srv/image --json', 'write into an image; prints {"changed": …}'],
    ],
  },
  {
    command: 'uninstall <names..>',
    summary: "Disable and stop the profiles' timers and remove their drop-ins (the profiles stay)",
    positionals: [NAMES],
    options: [
      {
        name: 'purge',
        type: 'boolean',
        default: false,
        describe: 'Also remove the template units and the generator (refused while another profile uses them)',
      },
    ],
    examples: [
      ['uninstall myconf', 'stop backing up myconf; its profile stays in /etc/restic'],
      ['uninstall myconf --purge', "the same, and remove restic-systemd's units once no profile uses them"],
    ],
  },
  {
    command: 'init <name>',
    summary: "Create the profile's repository if it does not exist yet; succeed quietly if it does",
    positionals: [NAME],
    options: [
      {
        name: 'generate-password',
        type: 'boolean',
        default: false,
        describe: 'Write a random password (mode 0600) into RESTIC_PASSWORD_FILE if that file does not exist',
      },
    ],
    examples: [['init myconf --generate-password', 'create /etc/restic/myconf.password and the repository']],
  },
  {
    command: 'credentials <name>',
    summary:
      "Move the profile's secrets into credentials systemd-creds encrypts for this machine; the units load " +
      'them with LoadCredentialEncrypted=',
    positionals: [NAME],
    options: [
      {
        name: 'with-key',
        type: 'string',
        value: 'KEY',
        default: 'auto',
        describe:
          "systemd-creds' key: auto (the TPM2 and the host key when there is a TPM2, else the host key), " +
          'host, tpm2 or host+tpm2',
      },
    ],
    examples: [
      [
        'credentials myconf',
        'the repository password and backend keys leave /etc/restic/myconf.conf and its password file for ' +
          '/etc/credstore.encrypted/',
      ],
      [
        'credentials myconf --with-key=host',
        'encrypt with the host key only (/var/lib/systemd/credential.secret), e.g. on a machine without a TPM2',
      ],
    ],
  },
  {
    command: 'run <job> <name>',
    summary: 'Run a job of a profile now: what the units start',
    positionals: [{ name: 'job', describe: 'The job', choices: JOB_NAMES }, NAME],
    options: [],
    examples: [
      ['run backup myconf', 'back up now, apply the retention, write the status file'],
      ['run maintenance myconf', 'restic prune and restic check --read-data-subset now'],
      ['run pg-backup db', 'dump the paused standby of profile db into its repository now'],
    ],
  },
  {
    command: 'restore <name>',
    summary:
      'Bring back databases (one, all, a schema or a table; under another name; into a new cluster) or files ' +
      "from the profile's snapshots",
    positionals: [NAME],
    options: [
      {
        name: 'database',
        type: 'string',
        value: 'DB',
        repeatable: true,
        describe: 'A database to restore (again for more)',
      },
      {
        name: 'all-databases',
        type: 'boolean',
        default: false,
        describe: 'Every database of the dump, and the ' + 'roles it needs',
      },
      { name: 'schema', type: 'string', value: 'S', describe: 'Only this schema of the one --database' },
      {
        name: 'table',
        type: 'string',
        value: 'S.T',
        describe: 'Only this table of the one --database, with ' + 'its indexes and constraints',
      },
      {
        name: 'as',
        type: 'string',
        value: 'NEWNAME',
        describe: 'Restore the one --database under this name, ' + 'beside the live one',
      },
      {
        name: 'to',
        type: 'string',
        value: 'CONNINFO',
        describe:
          'The cluster to restore into, as libpq pairs: ' +
          '"host=/var/run/postgresql port=5432" (never ' +
          'a standby)',
      },
      {
        name: 'replace',
        type: 'boolean',
        default: false,
        describe: 'Rename a database of the same name aside ' + 'first (it is never dropped), instead of ' + 'refusing',
      },
      {
        name: 'update-roles',
        type: 'boolean',
        default: false,
        describe: 'Also give roles that exist the ' + 'attributes, passwords and ' + 'memberships of the dump',
      },
      {
        name: 'jobs',
        type: 'string',
        value: 'N',
        describe: "pg_restore's parallel jobs (default: this " + "machine's cores)",
      },
      {
        name: 'snapshot',
        type: 'string',
        value: 'ID',
        describe: 'This snapshot (default: the newest of this ' + 'profile and host)',
      },
      {
        name: 'at',
        type: 'string',
        value: 'TIME',
        describe: 'The newest snapshot taken at or before TIME ' + '("2026-12-01 14:00")',
      },
      {
        name: 'host',
        type: 'string',
        value: 'HOST',
        describe: "Another host's snapshots (the disaster case: a " + 'new machine)',
      },
      {
        name: 'path',
        type: 'string',
        value: 'P',
        repeatable: true,
        describe: 'Files: this path of the file ' + 'backup (again for more)',
      },
      {
        name: 'target',
        type: 'string',
        value: 'DIR',
        describe: 'Files: restore into DIR, new or empty and ' + "root's (default /root/restore-<name>-<time>)",
      },
      {
        name: 'dry-run',
        type: 'boolean',
        default: false,
        describe:
          'Print the plan (snapshot, databases and ' + 'sizes, what is created or renamed); ' + 'change nothing',
      },
    ],
    examples: [
      ['restore db --database shop --as shop2 --to port=5432', 'bring shop back beside the live one'],
      [
        'restore db --database app --table s.t --as t --to port=5432',
        'the table s.t of app, into a new database t (port=5432: the local socket)',
      ],
      [
        'restore db --all-databases --replace --to port=5432',
        "a whole cluster onto a fresh one (another host's dumps: --host NAME)",
      ],
      ['restore myconf --path /etc/nginx', "files, into a new folder of root's"],
    ],
  },
  {
    command: 'exec <name>',
    summary:
      "Run a command with the profile's environment (replaces the guide's while-read-export loop); exits with " +
      "the command's code",
    positionals: [NAME],
    options: [],
    examples: [
      ['exec myconf -- restic snapshots', 'list the snapshots of the repository of myconf'],
      ['exec myconf -- restic check', 'check the repository of myconf with restic itself'],
    ],
  },
  {
    command: 'status [names..]',
    summary:
      'Last run, snapshot and next run of every job; exits 8 if any job is unhealthy, 3 if there is nothing ' +
      'to check',
    positionals: [
      {
        ...NAMES,
        describe: 'Profile names (default: every profile of the config folder and every installed one)',
        optional: true,
      },
    ],
    options: [],
    examples: [
      ['status', 'a table of every profile and job (a profile not installed is said, and is no fault)'],
      ['status myconf --json', 'the same as JSON, for a monitor'],
    ],
  },
  {
    command: 'list',
    summary:
      'Every profile of the config folder and every installed one: installed, timers enabled (all, or which), ' +
      'healthy',
    positionals: [],
    options: [],
    examples: [['list --json', 'the profiles as JSON']],
  },
  {
    command: 'validate [names..]',
    summary:
      'Check profiles completely: model, permissions, restic and its version, the repository with its ' +
      'password, the database of a database profile, the units',
    positionals: [
      { ...NAMES, describe: 'Profile names (default: every profile of the config folder)', optional: true },
    ],
    options: [],
    examples: [
      ['validate myconf', 'every problem of /etc/restic/myconf.conf with the fix to apply'],
      ['validate', 'every profile of /etc/restic'],
    ],
  },
  {
    command: 'notify <unit>',
    summary: "Run the profile's NOTIFY_COMMAND for a failed unit (what restic-notify@<unit>.service does)",
    positionals: [{ name: 'unit', describe: 'The failed unit, e.g. restic@myconf.service' }],
    options: [],
    examples: [['notify restic@myconf.service', 'try the notification of myconf by hand']],
  },
  {
    command: 'ended <job> <name>',
    summary:
      "What every job's unit runs after its main process (ExecStopPost=): a run killed before writing its result " +
      'gets its failed status and metrics',
    positionals: [{ name: 'job', describe: 'The job', choices: JOB_NAMES }, NAME],
    options: [],
    examples: [],
    hidden: true,
  },
  {
    command: 'generate <normal-dir> [early-dir] [late-dir]',
    summary: "What restic-systemd's systemd generator runs at every daemon-reload: the drop-ins of every profile",
    positionals: [
      { name: 'normal-dir', describe: "systemd's generator output folder" },
      { name: 'early-dir', describe: 'unused', optional: true },
      { name: 'late-dir', describe: 'unused', optional: true },
    ],
    options: [],
    examples: [],
    hidden: true,
  },
  {
    command: 'internal-pipeline',
    summary: "What restic 0.17+ runs for the database job: the dump with none of restic's secrets",
    positionals: [],
    options: [],
    examples: [],
    hidden: true,
  },
];

/** A command's name: its first word. */
export function commandName(spec: CommandSpec): string {
  return spec.command.split(' ')[0]!;
}

/** The commands an operator uses, in the order of the docs. */
export const VISIBLE_COMMANDS = COMMANDS.filter((spec) => !spec.hidden);
