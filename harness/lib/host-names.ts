/**
 * A stack presented under reserved names rather than 127.0.0.1 (see host-map.mjs): the variables
 * that make a run's Node processes (E2E_HOST_MAP, and NODE_OPTIONS with the preload) and its
 * Chromium (CHROMIUM_ARGS) resolve the names to an address, and a check that nothing outside the
 * run resolves them already.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HOST_MAP_VARIABLE } from './host-map.mjs';
import { describeExit, run } from './processes';

export const HOST_MAP_PRELOAD = fileURLToPath(new URL('./host-map.mjs', import.meta.url));

/** E2E_HOST_MAP: every name to the address. */
export function hostMapValue(names: readonly string[], address: string): string {
  return names.map((name) => `${name}=${address}`).join(',');
}

/** CHROMIUM_ARGS: the browser's side of the same map (its resolver is its own, not Node's). */
export function chromiumArgsValue(names: readonly string[], address: string): string {
  return `--host-resolver-rules="${names.map((name) => `MAP ${name} ${address}`).join(',')}"`;
}

/** NODE_OPTIONS with the host-map preload after what the caller had; a file URL needs no quoting. */
export function nodeOptionsValue(inherited: string | undefined, preload: string = HOST_MAP_PRELOAD): string {
  return [inherited?.trim(), `--import ${pathToFileURL(preload).href}`].filter(Boolean).join(' ');
}

/** What every Node process of a run needs to resolve the names: the map and the preload that reads it. */
export function hostMapEnv(names: readonly string[], address: string, inheritedNodeOptions: string | undefined): Record<string, string> {
  return { [HOST_MAP_VARIABLE]: hostMapValue(names, address), NODE_OPTIONS: nodeOptionsValue(inheritedNodeOptions) };
}

/** The names this system's own resolver knows (none, unless /etc/hosts or DNS were changed): asked of a Node process without the map. */
export async function namesKnownOutside(names: readonly string[], cwd: string): Promise<string[]> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env[HOST_MAP_VARIABLE];
  const script = `const dns = require('node:dns'); const names = ${JSON.stringify(names)};
Promise.all(names.map((n) => dns.promises.lookup(n).then(() => n, () => null))).then((r) => console.log(JSON.stringify(r.filter(Boolean))));`;
  const result = await run(process.execPath, ['-e', script], { cwd, env, timeoutMs: 30_000 });
  try {
    return JSON.parse(result.stdout.trim()) as string[];
  } catch {
    return [`(could not ask: ${`${result.stdout}${result.stderr}`.trim() || describeExit(result)})`];
  }
}
