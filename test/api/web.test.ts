import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../helpers.js';

// How the API serves the built web app (src/http/web.ts), on a stand-in build: test/e2e
// drives the real one in Chromium.
const INDEX = '<!doctype html><title>seat-hold</title><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = 'console.log("storefront");';
let built: string;
let empty: string;
let ctx: TestContext;
let unbuilt: TestContext;

beforeAll(async () => {
  built = mkdtempSync(path.join(tmpdir(), 'web-built-'));
  empty = mkdtempSync(path.join(tmpdir(), 'web-empty-'));
  mkdirSync(path.join(built, 'assets'));
  writeFileSync(path.join(built, 'index.html'), INDEX);
  writeFileSync(path.join(built, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(built, 'assets', 'index-abc123.js'), SCRIPT);
  writeFileSync(path.join(built, 'assets', 'index-abc123.js.br'), brotliCompressSync(SCRIPT));
  [ctx, unbuilt] = await Promise.all([startTestApp({ WEB_DIR: built }), startTestApp({ WEB_DIR: empty })]);
});

afterAll(async () => {
  await Promise.all([ctx?.close(), unbuilt?.close()]);
  rmSync(built, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

describe('pages', () => {
  it.each(['/', '/shows/0b5e6a43-5f0c-4c11-9d43-3f3c1e0f9a10', '/admin', '/admin/shows/new'])(
    'GET %s answers the app, revalidated on every visit, with a CSP of its own origin only',
    async (url) => {
      const response = await ctx.app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toBe(INDEX);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toBe(
        "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'; img-src 'self' data:",
      );
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    },
  );

  it.each(['/api/shows', '/api/nothing-here', '/assets/missing-123.js', '/metrics'])(
    'GET %s keeps the API CSP: nothing runs from an API answer or a 404',
    async (url) => {
      const response = await ctx.app.inject({ method: 'GET', url });
      expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    },
  );
});

describe('assets', () => {
  it('hashed files are cached for a year, and sent precompressed to browsers that accept it', async () => {
    const plain = await ctx.app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body).toBe(SCRIPT);

    const compressed = await ctx.app.inject({
      method: 'GET',
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(compressed.headers['content-encoding']).toBe('br');
    expect(compressed.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(compressed.headers.vary).toContain('accept-encoding');
  });

  it('files without a hash in their name are revalidated', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it.each([
    ['GET', '/assets/missing-123.js'],
    ['GET', '/api/nothing-here'],
    ['GET', '/shows'],
    ['POST', '/'],
    ['GET', '/assets/../../package.json'],
    ['GET', '/assets/..%2f..%2fpackage.json'],
    ['GET', '/%2e%2e/%2e%2e/package.json'],
    ['GET', '/assets/%2e%2e%2f%2e%2e%2fsrc%2fconfig.ts'],
    ['GET', '/..%5c..%5cpackage.json'],
    ['GET', '//etc/passwd'],
  ])('%s %s is a problem+json 404, never the app or a file outside the build', async (method, url) => {
    const response = await ctx.app.inject({ method: method as 'GET' | 'POST', url });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.json().code).toBe('not_found');
  });
});

it('without a build the API runs alone: the pages are 404 problems', async () => {
  const response = await unbuilt.app.inject({ method: 'GET', url: '/' });
  expect(response.statusCode).toBe(404);
  expect(response.json().code).toBe('not_found');
  expect((await unbuilt.app.inject({ method: 'GET', url: '/api/shows' })).statusCode).toBe(200);
});
