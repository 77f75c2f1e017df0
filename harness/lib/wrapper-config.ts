/**
 * A wrapper of a Playwright config for one harness run: the config as it is (projects, timeouts,
 * fixtures), imported by absolute path, with its tests resolved against its own directory, and
 * only what the run needs changed: its reporters, and perhaps a `use` setting.
 */
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type WrapperOptions = {
  /**
   * `keep`: the config's own reporters (local ones resolved against its directory, so the run can
   * start from another), plus a json reporter when it has none; `json`: the json reporter only.
   */
  reporters: 'keep' | 'json';
  /** Settings of `use` to override, e.g. `{ video: 'off' }`. */
  use?: Record<string, string | boolean | number>;
  /** Who wrote it, for the file's first line. */
  writtenBy: string;
};

export function wrapperConfigSource(configPath: string, options: WrapperOptions): string {
  const configDir = dirname(configPath);
  const base = configPath.replace(/\.(ts|mts|js|mjs)$/, '');
  const reporter =
    options.reporters === 'json'
      ? ["const reporter: Entry[] = [['json']];"]
      : [
          "const entries: Entry[] = typeof base.reporter === 'string' ? [[base.reporter]] : ((base.reporter ?? [['list']]) as Entry[]);",
          "const reporter = entries.map(([name, options]): Entry => [name.startsWith('.') ? resolve(configDir, name) : name, options]);",
          "if (!reporter.some(([name]) => name === 'json')) reporter.unshift(['json']);",
        ];
  const use = options.use ? `, use: { ...base.use, ${Object.entries(options.use).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }` : '';
  return [
    `// Written by ${options.writtenBy} for its runs (harness/lib/wrapper-config.ts).`,
    "import { resolve } from 'node:path';",
    `import base from ${JSON.stringify(base)};`,
    '',
    `const configDir = ${JSON.stringify(configDir)};`,
    'type Entry = [string, Record<string, unknown>?];',
    ...reporter,
    '',
    `export default { ...base, testDir: resolve(configDir, base.testDir ?? '.'), reporter${use} };`,
    '',
  ].join('\n');
}

/** Writes the wrapper to `file` and returns its path. */
export function writeWrapperConfig(file: string, configPath: string, options: WrapperOptions): string {
  writeFileSync(file, wrapperConfigSource(configPath, options));
  return file;
}
