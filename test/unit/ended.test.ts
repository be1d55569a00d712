/** How `ended` (ExecStopPost=) names the way a run's main process ended, from what systemd gives it. */
import { howItEnded } from '../../src/reporting/run-record.js';

test.each([
  [{ SERVICE_RESULT: 'signal', EXIT_CODE: 'killed', EXIT_STATUS: 'KILL' }, 'killed by SIGKILL (SERVICE_RESULT=signal)'],
  [
    { SERVICE_RESULT: 'core-dump', EXIT_CODE: 'dumped', EXIT_STATUS: 'SEGV' },
    'killed by SIGSEGV (SERVICE_RESULT=core-dump)',
  ],
  [{ SERVICE_RESULT: 'oom-kill', EXIT_CODE: 'killed', EXIT_STATUS: 'KILL' }, 'killed by the OOM killer'],
  [{ SERVICE_RESULT: 'exit-code', EXIT_CODE: 'exited', EXIT_STATUS: '1' }, 'SERVICE_RESULT=exit-code, exit status 1'],
  [{}, 'killed, or the machine stopped'],
])('%j: %s', (env, said) => {
  expect(howItEnded(env)).toBe(said);
});
