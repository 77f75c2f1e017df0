/**
 * The stack's child processes run as esbuild bundles under plain `node`, not through the tsx
 * loader: the loader's hooks thread and transforms cost each process about 45 MB and a few hundred
 * milliseconds of start. One bundle per entry in <STACK_DIR>/build/, rebuilt only when a source file
 * it was built from changed (by content hash). Packages stay outside the bundle, imported by their
 * absolute path, so a bundle runs from any directory and loads the very files tsx would.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

export type BundleEntry = { name: string; file: string; preload?: string[] };

export type BundleResult = {
  /** Entry name → absolute path of its bundle. */
  outputs: Map<string, string>;
  reused: boolean;
};

type Manifest = {
  key: string;
  /** Source file → sha256 of its content at build time. */
  inputs: Record<string, string>;
  /** Absolute paths of the packages the bundles import: a moved package means a rebuild. */
  externals: string[];
};

const LOADERS: Record<string, 'ts' | 'tsx' | 'js' | 'jsx'> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.jsx': 'jsx' };

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hashFile(path: string): string | undefined {
  try {
    return sha256(readFileSync(path));
  } catch {
    return undefined;
  }
}

/**
 * Loads every source file, noting the hash of exactly what was bundled. import.meta.url would name
 * the bundle once bundled; sources use it to find files beside them (migrations, the web UI,
 * emulator assets), so each file keeps its own.
 */
function sources(loaded: Record<string, string>): Plugin {
  return {
    name: 'sources',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        const loader = LOADERS[extname(args.path)];
        if (!loader) return undefined;
        const source = readFileSync(args.path, 'utf8');
        loaded[args.path] = sha256(source);
        if (!source.includes('import.meta')) return { contents: source, loader };
        const url = pathToFileURL(args.path).href;
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(url))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)));
        return { contents, loader };
      });
    },
  };
}

/**
 * Bare imports (packages) stay external but are resolved now, from the importing source file, to
 * an absolute path: Node would otherwise look for node_modules beside the bundle, in STACK_DIR.
 */
function packagesByPath(externals: Set<string>): Plugin {
  return {
    name: 'packages-by-path',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.kind === 'entry-point') return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
        if (found.errors.length > 0) return { errors: found.errors };
        // Node's built-ins come back external under their own name.
        if (!found.external) externals.add(found.path);
        return { path: found.path, external: true };
      });
    },
  };
}

function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

function isCurrent(manifest: Manifest | undefined, key: string, outputs: string[]): boolean {
  if (!manifest || manifest.key !== key) return false;
  if (!outputs.every((file) => existsSync(file))) return false;
  if (!manifest.externals.every((file) => existsSync(file))) return false;
  return Object.entries(manifest.inputs).every(([file, hash]) => hashFile(file) === hash);
}

/** The virtual entry: preloads first (ESM evaluates imports in order), then the entry itself. */
function entrySource(entry: BundleEntry): string {
  return [...(entry.preload ?? []), entry.file].map((file) => `import ${JSON.stringify(file)};`).join('\n');
}

/**
 * Bundles each entry to <outDir>/<name>.mjs (with a linked source map), or reuses the bundles of
 * the previous build when none of their sources changed.
 */
export async function bundleEntries(entries: BundleEntry[], outDir: string): Promise<BundleResult> {
  const esbuild = await import('esbuild');
  const outputs = new Map(entries.map((e) => [e.name, join(outDir, `${e.name}.mjs`)]));
  const manifestFile = join(outDir, 'manifest.json');
  // This file is part of the key: a change to how bundles are built rebuilds them.
  const key = sha256(JSON.stringify({ esbuild: esbuild.version, node: process.versions.node, builder: hashFile(fileURLToPath(import.meta.url)), entries }));
  if (isCurrent(readManifest(manifestFile), key, [...outputs.values()])) return { outputs, reused: true };

  mkdirSync(outDir, { recursive: true });
  const externals = new Set<string>();
  const inputs: Record<string, string> = {};
  const virtual = new Map(entries.map((e) => [`m1-entry:${e.name}`, e]));
  try {
    await esbuild.build({
      entryPoints: Object.fromEntries(entries.map((e) => [e.name, `m1-entry:${e.name}`])),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      outdir: outDir,
      outExtension: { '.js': '.mjs' },
      sourcemap: 'linked',
      // Error names and stack frames keep the source's class and function names.
      keepNames: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'virtual-entries',
          setup(build) {
            build.onResolve({ filter: /^m1-entry:/ }, (args) => ({ path: args.path, namespace: 'm1-entry' }));
            build.onLoad({ filter: /.*/, namespace: 'm1-entry' }, (args) => ({
              contents: entrySource(virtual.get(args.path)!),
              loader: 'js',
              resolveDir: outDir,
            }));
          },
        },
        packagesByPath(externals),
        sources(inputs),
      ],
    });
  } finally {
    // esbuild's service process would otherwise live as long as this one.
    await esbuild.stop();
  }

  const manifest: Manifest = { key, inputs, externals: [...externals].sort() };
  // Written last and atomically: a build cut short leaves no manifest claiming it is current.
  writeFileSync(`${manifestFile}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(`${manifestFile}.tmp`, manifestFile);
  return { outputs, reused: false };
}
