/** The accounts of this system, as `id` knows them (the database's OS user, PG_OS_USER). */
import { EnvironmentError } from '../errors.js';
import type { Runner } from '../exec/runner.js';

export interface Account {
  user: string;
  uid: number;
  gid: number;
}

/** The numeric ids of an account; refused with the fix when there is no such account here. */
export async function account(runner: Runner, user: string): Promise<Account> {
  const ids = await Promise.all(
    (['-u', '-g'] as const).map(async (flag) => {
      const result = await runner.run('id', [flag, '--', user]);
      if (result.exitCode !== 0) {
        throw new EnvironmentError(`the user ${user} (PG_OS_USER) does not exist here: ${result.stderr.trim()}`);
      }
      return Number(result.stdout.trim());
    }),
  );
  return { user, uid: ids[0]!, gid: ids[1]! };
}
