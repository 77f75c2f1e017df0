/**
 * Fallback build of the web UI. The bootstrap normally builds it; the stack rebuilds only when
 * reference/web/dist is missing or older than a source file, so a normal start costs one stat walk.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type WebBuildState = 'no_web_sources' | 'missing' | 'stale' | 'fresh';

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function webBuildState(webDir: string): WebBuildState {
  if (!existsSync(join(webDir, 'index.html')) || !existsSync(join(webDir, 'src'))) return 'no_web_sources';
  const built = join(webDir, 'dist', 'index.html');
  if (!existsSync(built)) return 'missing';
  const sources = ['src', 'index.html', 'vite.config.ts'].map((p) => join(webDir, p)).filter((p) => existsSync(p));
  const newestSource = Math.max(...sources.map(newestMtime));
  return newestSource > statSync(built).mtimeMs ? 'stale' : 'fresh';
}

function viteBin(referenceDir: string): string | undefined {
  try {
    const require = createRequire(join(referenceDir, 'package.json'));
    return join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    return undefined;
  }
}

/** `vite build --config web/vite.config.ts` in reference/, output to the log file. */
export async function buildWeb(referenceDir: string, logFile: string): Promise<void> {
  const bin = viteBin(referenceDir);
  const [command, args] = bin
    ? [process.execPath, [bin, 'build', '--config', 'web/vite.config.ts']]
    : ['npx', ['vite', 'build', '--config', 'web/vite.config.ts']];
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd: referenceDir, stdio: ['ignore', log, log] });
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.once('error', () => resolve(-1));
    });
    if (code !== 0) throw new Error(`the web UI build failed (exit ${code}); see ${logFile}`);
  } finally {
    closeSync(log);
  }
}
