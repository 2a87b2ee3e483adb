import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from '../helpers.js';
import {
  book,
  newPage as newPageIn,
  screenshotPath,
  seatsReach,
  startWebStack,
  text,
  type WebStack,
} from '../support/browser.js';
import { createShowVia, type SeatMapInput, type ServiceProcess } from '../support/processes.js';

// The storefront in headless Chromium, served by real API processes (as `npm start` runs
// them) with a worker expiring holds through BullMQ. One API holds seats for 2 minutes, the
// other for 4 s, for the test that watches a countdown reach zero.
let stack: WebStack;
let api: ServiceProcess;
let shortHolds: ServiceProcess;
let browser: Browser;

beforeAll(async () => {
  stack = await startWebStack([{ HOLD_TTL_SECONDS: '120' }, { HOLD_TTL_SECONDS: '4' }]);
  [api, shortHolds] = stack.apis as [ServiceProcess, ServiceProcess];
  browser = stack.browser;
}, 120_000);

afterAll(() => stack?.close());

const createShow = (body: Record<string, unknown>) => createShowVia(api.url!, body);
const newPage = (width?: number, height?: number) => newPageIn(browser, width, height);
/** The browser's PerformanceObserver as the layout-shift check uses it (no DOM types here). */
interface LayoutShiftScope {
  layoutShift: number;
  PerformanceObserver: new (callback: (list: { getEntries(): { value?: number }[] }) => void) => {
    observe(options: { type: string }): void;
  };
}

const seat = (page: Page, id: string): Locator => page.locator(`[data-seat="${id}"]`);

const hall: SeatMapInput = {
  sections: [
    {
      name: 'Stalls',
      rows: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((label, index) => ({
        label,
        seats: 16,
        category: index < 3 ? 'Front' : 'Rear',
      })),
    },
    { name: 'Balcony', rows: ['A', 'B', 'C'].map((label) => ({ label, seats: 12, category: 'Balcony' })) },
  ],
};

/** GET a JSON answer with the admin key. */
async function adminGet(url: string): Promise<any> {
  const response = await fetch(`${api.url}${url}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(response.status).toBe(200);
  return response.json();
}

describe('general admission', () => {
  it('a buyer finds the show, holds two tickets, pays, and the show has two fewer', async () => {
    const showId = await createShow({ title: 'Club gig', total_seats: 50 });
    const page = await newPage();
    await page.goto(`${api.url}/`);
    await page.getByRole('link', { name: /Club gig/ }).click();
    await page.getByLabel('Tickets', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Hold 2 tickets' }).click();

    expect(await text(page.getByRole('heading', { name: 'Your seats are held' }))).toBe('Your seats are held');
    expect(await text(page.getByRole('timer'))).toMatch(/^(2:00|1:5\d)$/);
    // The show's count follows live: the hold's own update arrives over the stream.
    await page.locator('.availability', { hasText: /^48 seats left$/ }).waitFor({ timeout: 2_000 });

    await page.getByRole('button', { name: 'Pay and confirm' }).click();
    expect(await text(page.getByRole('heading', { name: "You're going!" }))).toBe("You're going!");
    expect((await adminGet(`/api/shows/${showId}`)).available_seats).toBe(48);
    const bookings = await adminGet(`/api/shows/${showId}/bookings?status=CONFIRMED`);
    expect(bookings).toHaveLength(1);
    expect(bookings[0].seats).toBe(2);
    await page.context().close();
  });

  it('offers no more tickets than are left, and says sold out in words when they go meanwhile', async () => {
    const showId = await createShow({ title: 'Tiny room', total_seats: 2 });
    const page = await newPage();
    await page.goto(`${api.url}/`);
    await page.getByRole('link', { name: /Tiny room/ }).click();
    const picker = page.getByLabel('Tickets', { exact: true });
    expect(await picker.locator('option').allTextContents()).toEqual(['1', '2']);
    // Someone else takes both; this buyer still asks for one.
    await book(api.url!, showId, { seats: 2 }, false);
    await page.locator('.availability[data-available="0"]').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Hold 1 ticket' }).click();
    const alert = page.locator('[role=alert][data-code="sold_out"]');
    expect(await text(alert)).toBe('Sold out: there are not enough seats left for your request.');
    await page.context().close();
  });

  it('sells tickets by type: a quantity per type with its price, the total as they are chosen, the lines on the hold', async () => {
    const showId = await createShow({
      title: 'Family matinee',
      total_seats: 40,
      currency: 'EUR',
      ticket_types: [
        { code: 'adult', name: 'Adult', price: 4500 },
        { code: 'child', name: 'Child', price: 2500, max_per_booking: 2 },
      ],
    });
    const page = await newPage();
    await page.goto(`${api.url}/shows/${showId}`);
    const adults = page.getByLabel(/^Adult/);
    const children = page.getByLabel(/^Child/);
    await children.waitFor();
    // A child's ticket is capped by its type (2), an adult's by the booking (10).
    expect(await children.locator('option').allTextContents()).toEqual(['0', '1', '2']);
    expect(await adults.locator('option').count()).toBe(11);
    await adults.selectOption('2');
    await children.selectOption('1');
    const total = await text(page.locator('.total output'));
    expect(total.replace(/\s/g, '')).toMatch(/115[.,]00/);
    await page.getByRole('button', { name: 'Hold 3 tickets' }).click();
    await page.getByRole('heading', { name: 'Your seats are held' }).waitFor();
    expect(await page.locator('.lines tbody tr').allTextContents()).toHaveLength(2);
    expect((await text(page.locator('.booking-total'))).replace(/\s/g, '')).toMatch(/115[.,]00/);
    const bookings = await adminGet(`/api/shows/${showId}/bookings?status=PENDING`);
    expect(bookings).toMatchObject([
      {
        seats: 3,
        total: 11500,
        lines: [
          { type: 'adult', quantity: 2, unit_price: 4500 },
          { type: 'child', quantity: 1, unit_price: 2500 },
        ],
      },
    ]);
    await page.context().close();
  });
});

describe('seat map', () => {
  it('a buyer picks two seats and confirms; another browser sees them taken, live', async () => {
    const showId = await createShow({ title: 'Chamber concert', seat_map: hall });
    // Other buyers were here first.
    await book(api.url!, showId, { seat_ids: ['Stalls-D-6', 'Stalls-D-7', 'Stalls-D-8', 'Stalls-D-9'] }, true);
    await book(api.url!, showId, { seat_ids: ['Stalls-B-11', 'Stalls-B-12'] }, false);
    await book(api.url!, showId, { seat_ids: ['Balcony-A-5', 'Balcony-A-6', 'Balcony-A-7'] }, true);
    const chosen = ['Stalls-C-8', 'Stalls-C-9'];
    const [buyer, watcher] = await Promise.all([newPage(), newPage()]);
    // The watcher follows the show through the other API process.
    await Promise.all([buyer.goto(`${api.url}/shows/${showId}`), watcher.goto(`${shortHolds.url}/shows/${showId}`)]);
    await Promise.all([seatsReach(buyer, chosen, 'F', 10_000), seatsReach(watcher, chosen, 'F', 10_000)]);
    await watcher.locator('.live-dot.live').waitFor();
    // Layout shifts on the watcher's page from here on: live updates must not move anything.
    await watcher.evaluate(() => {
      const scope = globalThis as unknown as LayoutShiftScope;
      scope.layoutShift = 0;
      new scope.PerformanceObserver((list) => {
        for (const entry of list.getEntries()) scope.layoutShift += entry.value ?? 0;
      }).observe({ type: 'layout-shift' });
    });

    for (const id of chosen) await seat(buyer, id).click();
    expect(await text(buyer.locator('.chosen .seat-list'))).toBe('Chosen: Stalls-C-8, Stalls-C-9');
    await buyer.screenshot({ path: screenshotPath('storefront-seat-map') });

    const held = buyer.waitForResponse((response) => response.url().endsWith('/book'));
    await buyer.getByRole('button', { name: 'Hold 2 seats' }).click();
    expect((await held).status()).toBe(201);
    // Live: no reload. How soon is reported, not asserted (the goal, 1 s, is for the benchmark: a
    // loaded CI machine is not a measure of it).
    const unavailableAfterMs = await seatsReach(watcher, chosen, 'H', 10_000);
    console.info(`seats held in one browser showed as held in another after ${unavailableAfterMs} ms`);

    expect(await text(buyer.locator('.hold-panel .seat-list'))).toBe('Stalls-C-8, Stalls-C-9');
    await buyer.getByRole('timer').waitFor();
    await buyer.screenshot({ path: screenshotPath('storefront-hold-countdown') });

    await buyer.getByRole('button', { name: 'Pay and confirm' }).click();
    await buyer.getByRole('heading', { name: "You're going!" }).waitFor();
    await seatsReach(watcher, chosen, 'S', 1_000);
    expect(await watcher.evaluate(() => (globalThis as unknown as LayoutShiftScope).layoutShift)).toBe(0);
    // A seat someone else bought cannot be chosen.
    await seat(watcher, chosen[0]!).click();
    expect(await text(watcher.locator('.chosen .seat-list'))).toBe('No seats chosen yet.');
    await Promise.all([buyer.context().close(), watcher.context().close()]);
  });

  it("a hold's countdown reaches zero and the seats are on sale again, for the buyer and for others", async () => {
    const showId = await createShow({ title: 'Short holds', seat_map: hall });
    const chosen = ['Balcony-A-1', 'Balcony-A-2'];
    const [buyer, watcher] = await Promise.all([newPage(390, 844), newPage()]);
    await Promise.all([buyer.goto(`${shortHolds.url}/shows/${showId}`), watcher.goto(`${api.url}/shows/${showId}`)]);
    await seatsReach(watcher, chosen, 'F', 10_000);
    await watcher.locator('.live-dot.live').waitFor();

    for (const id of chosen) await seat(buyer, id).click();
    await buyer.getByRole('button', { name: 'Hold 2 seats' }).click();
    // This API holds for 4 s: the countdown starts at 0:04 (0:03 or 0:02 on a slow machine).
    expect(await text(buyer.getByRole('timer'))).toMatch(/^0:0[234]$/);
    await seatsReach(watcher, chosen, 'H', 1_000);

    await buyer.getByRole('heading', { name: 'Your hold ran out' }).waitFor({ timeout: 8_000 });
    expect(await text(buyer.locator('.hold-panel [role=alert]'))).toBe(
      'Your hold expired and the seats went back on sale.',
    );
    // The buyer's page reads the map again at zero; the others hear it when the worker expires the hold.
    await seatsReach(buyer, chosen, 'F', 2_000);
    await seatsReach(watcher, chosen, 'F', 3_000);
    const bookings = await adminGet(`/api/shows/${showId}/bookings`);
    expect(bookings.map((entry: { status: string }) => entry.status)).toEqual(['EXPIRED']);
    await Promise.all([buyer.context().close(), watcher.context().close()]);
  });

  it('chooses seats by keyboard, and asks for the best two seats of a category', async () => {
    const showId = await createShow({ title: 'Keyboard', seat_map: hall });
    const page = await newPage();
    await page.goto(`${api.url}/shows/${showId}`);
    const map = page.getByRole('application', { name: /Seat map of Keyboard/ });
    await map.focus();
    expect(await text(page.locator('.seat-map-focus'))).toBe('Section Stalls, row A, seat 1 (Front): free');
    await map.press('ArrowRight');
    await map.press('ArrowRight');
    await map.press('Enter');
    await map.press('ArrowDown');
    await map.press(' ');
    expect(await text(page.locator('.chosen .seat-list'))).toBe('Chosen: Stalls-A-3, Stalls-B-3');
    expect(await text(page.locator('.seat-map-focus'))).toBe('Section Stalls, row B, seat 3 (Front): chosen');
    await map.press('Enter');
    expect(await text(page.locator('.chosen .seat-list'))).toBe('Chosen: Stalls-A-3');

    await page.getByLabel('Category').selectOption('Balcony');
    await page.getByRole('button', { name: 'Best 2 seats for me' }).click();
    // The best two together in the category: the front row of the balcony, in the middle.
    expect(await text(page.locator('.hold-panel .seat-list'))).toMatch(/^Balcony-A-\d+, Balcony-A-\d+$/);
    await page.context().close();
  });

  it('draws a 20,000-seat map and keeps it live (first render reported)', async () => {
    const rows = Array.from({ length: 50 }, (_, index) => ({
      label: String(index + 1),
      seats: 100,
      category: index < 10 ? 'Premium' : 'Standard',
    }));
    const showId = await createShow({
      title: 'Arena night',
      seat_map: { sections: ['North', 'East', 'South', 'West'].map((name) => ({ name, rows })) },
    });
    const page = await newPage();
    await page.goto(`${api.url}/shows/${showId}`);
    const map = page.locator('.seat-map-canvas[data-first-render-ms]');
    await map.waitFor({ timeout: 10_000 });
    const firstRenderMs = Number(await map.getAttribute('data-first-render-ms'));
    expect(await page.locator('.seat-map-canvas rect.seat').count()).toBe(20_000);
    console.info(`20,000-seat map: first render ${firstRenderMs} ms after navigation started`);

    const response = await fetch(`${api.url}/api/shows/${showId}/book`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seat_ids: ['West-50-100'] }),
    });
    expect(response.status).toBe(201);
    await seatsReach(page, ['West-50-100'], 'H', 1_000);
    await page.context().close();
  });
});

it("keeps the storefront's JavaScript within its budget of 150 kB gzipped", () => {
  // The scripts index.html loads; the admin console is a chunk of its own that buyers never fetch.
  const html = readFileSync(path.join(stack.webDir, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((match) => match[1]!);
  expect(scripts.length).toBeGreaterThan(0);
  const bytes = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(path.join(stack.webDir, file))).length, 0);
  console.info(`storefront JavaScript: ${(bytes / 1024).toFixed(1)} kB gzipped`);
  expect(bytes).toBeLessThanOrEqual(150 * 1024);
});
