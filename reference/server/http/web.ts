/**
 * The built web UI (reference/web/dist) on the API's origin. Hashed assets are cached for a
 * year; index.html never, so a rebuild is picked up on the next navigation. Client-side routes
 * (/new, /settings/billing, ...) all answer index.html.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const WEB_NOT_BUILT = 'web UI not built: run npm run build:web -w reference';

export function webUiAvailable(distDir: string | null): distDir is string {
  return distDir !== null && existsSync(join(distDir, 'index.html'));
}

/** The meta tag that tells the page which variants the stack runs with (web/src/variants.ts reads it). */
export const VARIANTS_META = 'powernode-variants';
/** The meta tag that names the self-test faults that live in the page (web/src/faults.ts reads it). */
export const FAULTS_META = 'powernode-faults';

/**
 * index.html with the active variants in a meta tag before `</head>`: the page must know them
 * before its first render (the login page's test ids, the chat's route), which a fetch cannot
 * promise. Read on each request, so a rebuild is still picked up on the next navigation. The page's
 * faults, when any is on, ride in a tag of their own.
 */
export function shellWithVariants(html: string, variants: readonly string[], faults: readonly string[] = []): string {
  const tags = [`<meta name="${VARIANTS_META}" content="${variants.join(',')}" />`];
  if (faults.length > 0) tags.push(`<meta name="${FAULTS_META}" content="${faults.join(',')}" />`);
  const tag = tags.join('\n    ');
  return html.includes('</head>') ? html.replace('</head>', `    ${tag}\n  </head>`) : `${tag}\n${html}`;
}

export async function registerWebUi(app: FastifyInstance, distDir: string, variants: readonly string[] = [], faults: readonly string[] = []): Promise<void> {
  // With variants or page faults, index.html is only ever served through sendShell, which adds them.
  const shellOnly = variants.length > 0 || faults.length > 0;
  if (shellOnly) {
    for (const path of ['/', '/index.html']) app.get(path, (_request, reply) => sendShell(reply, distDir, variants, faults));
  }
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    cacheControl: false,
    index: shellOnly ? false : ['index.html'],
    ...(shellOnly ? { allowedPath: (path: string) => path !== '/index.html' } : {}),
    setHeaders(res, path) {
      if (/[\\/]assets[\\/]/.test(path)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      else res.setHeader('cache-control', 'no-cache');
    },
  });
}

/** A GET for a page (not an API call, not a file with an extension) gets the SPA shell. */
export function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0] ?? '/';
  if (path === '/api' || path.startsWith('/api/')) return false;
  const last = path.split('/').pop() ?? '';
  return !last.includes('.');
}

export function sendShell(reply: FastifyReply, distDir: string | null, variants: readonly string[] = [], faults: readonly string[] = []): FastifyReply {
  if (!webUiAvailable(distDir)) {
    return reply.status(503).type('text/plain; charset=utf-8').send(WEB_NOT_BUILT);
  }
  const shell = reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8');
  if (variants.length === 0 && faults.length === 0) return shell.sendFile('index.html', distDir);
  return shell.send(shellWithVariants(readFileSync(join(distDir, 'index.html'), 'utf8'), variants, faults));
}
