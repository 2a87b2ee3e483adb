import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';

/** dist/web of this package: two levels up from src/http (tsx) and from dist/http (built). */
const BUILT_WEB_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** The pages the web app routes itself (preact-iso): each answers index.html. */
const APP_PAGES = ['/', '/shows/:id', '/admin', '/admin/*'];

/**
 * The storefront's and the admin console's pages: only this origin may run, load or frame
 * anything in them. Connections go to the same origin too (the API and its streams).
 */
const WEB_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "img-src 'self' data:",
].join('; ');

export function webDir(config: Config): string {
  return path.resolve(config.WEB_DIR ?? BUILT_WEB_DIR);
}

/**
 * Serves the built web app (`npm run build`): hashed files under /assets/ may be cached
 * for a year (a new build has new names), everything else is revalidated on each visit so
 * that a deploy is seen at once. Without a build, nothing is served and the API runs alone.
 */
export async function webRoutes(app: FastifyInstance, config: Config): Promise<void> {
  const root = webDir(config);
  if (!existsSync(path.join(root, 'index.html'))) {
    app.log.warn({ web_dir: root }, 'web app not built (npm run build): / and /admin are not served');
    return;
  }
  await app.register(async (web) => {
    // After the API's headers (set on every answer in the root onRequest hook): a page may
    // run its own scripts, an API answer still may not. Only this plugin's routes (the build's
    // files and the app's pages) run this hook.
    web.addHook('onRequest', (_request, reply, done) => {
      void reply.header('content-security-policy', WEB_CSP);
      done();
    });
    await web.register(fastifyStatic, {
      root,
      index: false,
      // One route per file of the build, found at start (a build never changes under a running
      // process): an unknown path is the API's own 404, not a file lookup.
      wildcard: false,
      // The build wrote .br and .gz files beside each script, style and page.
      preCompressed: true,
      cacheControl: false,
      setHeaders(reply, file) {
        const hashed = path.relative(root, file).startsWith(`assets${path.sep}`);
        void reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    for (const page of APP_PAGES) {
      web.get(page, { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
    }
  });
}
