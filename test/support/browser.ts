import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers.js';
import { deleteQueueKeys, serviceEnv, startAll, startApi, startWorker, type ServiceProcess } from './processes.js';

/** Debian's Chromium (.ci/run installs the `chromium` package when it is missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Builds the web app as `npm run build` does, into a directory of the test's own (served
 * with WEB_DIR), so the tests always drive the current source.
 */
export async function buildWebApp(): Promise<string> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'seat-hold-web-'));
  await promisify(execFile)(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return outDir;
}

/** Headless Chromium with nothing reaching out to the network (this machine has none). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Where a test's screenshot goes: docs/screenshots (shown in the README) when
 * UPDATE_SCREENSHOTS=1 (`npm run screenshots`), a temporary directory otherwise, so that a
 * test run leaves the working tree as it was.
 */
export function screenshotPath(name: string): string {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? path.resolve('docs/screenshots')
      : path.join(tmpdir(), 'seat-hold-screenshots');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}

/** The web app's test stack: its own database, API processes serving a fresh build, a worker, Chromium. */
export interface WebStack {
  /** One API process per entry of the `apis` given, in that order. */
  apis: ServiceProcess[];
  browser: Browser;
  /** The build the APIs serve. */
  webDir: string;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * Real processes, as `npm start` and `npm run worker` run them, on PostgreSQL and Redis:
 * every process gets the test environment plus `shared`, each API its own entries too
 * (HOLD_TTL_SECONDS, say).
 */
export async function startWebStack(
  apis: Record<string, string>[],
  shared: Record<string, string> = {},
): Promise<WebStack> {
  const queuePrefix = `e2e-${randomBytes(4).toString('hex')}`;
  const [webDir, database] = await Promise.all([buildWebApp(), createTestDatabase()]);
  const env = { ...serviceEnv(database.url, inject('redisUrl'), queuePrefix), WEB_DIR: webDir, ...shared };
  const processes = await startAll([
    ...apis.map((own, index) => startApi(`api-${index + 1}`, { ...env, ...own })),
    startWorker('worker', env),
  ]);
  const browser = await launchChromium().catch(async (error: unknown) => {
    await Promise.all(processes.map((process) => process.stop()));
    throw error;
  });
  return {
    apis: processes.slice(0, apis.length),
    browser,
    webDir,
    database,
    async close() {
      await browser.close();
      await Promise.all(processes.map((process) => process.stop()));
      await database.drop();
      await deleteQueueKeys(inject('redisUrl'), queuePrefix);
      rmSync(webDir, { recursive: true, force: true });
    },
  };
}

/** A page in a context of its own (its own storage, as another buyer's browser). */
export async function newPage(browser: Browser, width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  return page;
}

/** What a page function uses of the browser's globals (the tests compile without DOM types). */
interface BrowserWindow {
  document: { querySelector(selector: string): { classList: { contains(name: string): boolean } } | null };
}

/** Resolves when every seat on the page's map has the state (F, H, S, B), in ms; rejects after timeoutMs. */
export async function seatsReach(page: Page, ids: string[], state: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await page.waitForFunction(
    ([seatIds, want]) =>
      seatIds.every((id) =>
        (globalThis as unknown as BrowserWindow).document
          .querySelector(`[data-seat="${id}"]`)
          ?.classList.contains(`seat-${want}`),
      ),
    [ids, state] as const,
    { timeout: timeoutMs, polling: 20 },
  );
  return Date.now() - started;
}

/** The element's text, trimmed, once it is there. */
export async function text(locator: Locator): Promise<string> {
  await locator.waitFor();
  return (await locator.textContent())?.trim() ?? '';
}

/** Holds seats as a buyer would over the API (POST /book), and confirms them when asked. */
export async function book(apiUrl: string, showId: string, body: object, confirm: boolean): Promise<void> {
  const response = await fetch(`${apiUrl}/api/shows/${showId}/book`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  const hold = (await response.json()) as { id: string; hold_token: string };
  if (!confirm) return;
  const confirmed = await fetch(`${apiUrl}/api/bookings/${hold.id}/confirm`, {
    method: 'POST',
    headers: { 'x-hold-token': hold.hold_token },
  });
  expect(confirmed.status).toBe(200);
}
