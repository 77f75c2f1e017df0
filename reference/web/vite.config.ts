import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Anchored to this folder so `npx vite build --config reference/web/vite.config.ts` works from the repo root.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  // Vite 8 transforms TSX with oxc; no React plugin is installed, so the JSX runtime is set here.
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: { host: '127.0.0.1', strictPort: true },
  preview: { host: '127.0.0.1', strictPort: true },
});
