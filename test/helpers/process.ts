import { spawnRole, type RoleProcess } from './roles.ts';

/** `beacon start` on `dataDir` as a real child process; resolves once it prints that it is running. */
export function spawnBeacon(
  dataDir: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<RoleProcess> {
  return spawnRole('start', env, ['--data-dir', dataDir, ...args]);
}
