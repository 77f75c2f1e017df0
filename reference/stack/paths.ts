/**
 * Where things are. npm runs workspace scripts with cwd = reference/, while the root's `npm run
 * stack` and a plain `node` call may run from elsewhere: STACK_DIR and `.env` are always resolved
 * against the repository root, never the current directory.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REFERENCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(REFERENCE_DIR, '..');

export function fromRepoRoot(path: string): string {
  return isAbsolute(path) ? path : resolve(REPO_ROOT, path);
}

/** Loads `<repo root>/.env` if present; variables already in the environment win. */
export function loadRepoEnv(file = join(REPO_ROOT, '.env')): string | undefined {
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
