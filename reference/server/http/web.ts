/**
 * The built web UI (reference/web/dist) on the API's origin. Hashed assets are cached for a
 * year; index.html never, so a rebuild is picked up on the next navigation. Client-side routes
 * (/new, /settings/billing, ...) all answer index.html.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const WEB_NOT_BUILT = 'web UI not built: run npm run build:web -w reference';

export function webUiAvailable(distDir: string | null): distDir is string {
  return distDir !== null && existsSync(join(distDir, 'index.html'));
}

export async function registerWebUi(app: FastifyInstance, distDir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    cacheControl: false,
    index: ['index.html'],
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

export function sendShell(reply: FastifyReply, distDir: string | null): FastifyReply {
  if (!webUiAvailable(distDir)) {
    return reply.status(503).type('text/plain; charset=utf-8').send(WEB_NOT_BUILT);
  }
  return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html', distDir);
}
