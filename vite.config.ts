import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes a .br and a .gz next to each script, style and page, once at build time: the API
 * serves them as they are to browsers that accept them (@fastify/static preCompressed),
 * with no compressing per request.
 */
function precompress(): Plugin {
  return {
    name: 'seat-hold:precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist/web';
      for (const file of Object.keys(bundle).filter((name) => /\.(js|css|html|svg)$/.test(name))) {
        const full = path.join(dir, file);
        const content = await readFile(full);
        await writeFile(
          `${full}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
        await writeFile(`${full}.gz`, gzipSync(content, { level: 9 }));
      }
    },
  };
}

/**
 * The web app (web/): `npm run build` writes it to dist/web, where the API serves it;
 * `npm run dev` serves it with hot reload and sends /api to the API on API_URL.
 * Paths are relative to the package root, where npm runs every script.
 */
export default defineConfig({
  root: 'web',
  publicDir: 'public',
  plugins: [preact({ prerender: { enabled: false } }), precompress()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // Every script is a file of this origin (the pages' CSP allows nothing inline).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(
      ['/api', '/health', '/api-docs'].map((prefix) => [prefix, process.env.API_URL ?? 'http://127.0.0.1:3000']),
    ),
  },
});
