import type { Show } from '@seat-hold/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_KEY } from '../helpers.js';
import { book, newPage, screenshotPath, seatsReach, startWebStack, text, type WebStack } from '../support/browser.js';
import type { ServiceProcess } from '../support/processes.js';
import { Receiver, verify } from '../support/receiver.js';

// The box office in headless Chromium, against a real API process and worker: an admin signs
// in, builds shows, blocks house seats (and a buyer's storefront shows them blocked), issues
// a comp, changes settings, and follows a webhook's deliveries.
let stack: WebStack;
let api: ServiceProcess;
let browser: Browser;

let receiver: Receiver;

beforeAll(async () => {
  // The receiver fails the first delivery it gets, then takes every one; the worker's own
  // retry is a minute away, so a delivery retried sooner was retried by the button.
  receiver = await Receiver.start((n) => ({ status: n === 0 ? 500 : 200 }));
  // Holds last the default 2 minutes: the box office's steps must not outrun a hold on a busy machine.
  stack = await startWebStack([{ HOLD_TTL_SECONDS: '120' }], {
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_BASE_MS: '60000',
  });
  [api] = stack.apis as [ServiceProcess];
  browser = stack.browser;
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

async function signIn(page: Page, path: string): Promise<void> {
  await page.goto(`${api.url}${path}`);
  await page.locator('[data-field="admin-key"]').fill(ADMIN_KEY);
  await page.locator('[data-action="sign-in"]').click();
  await page.locator('[data-action="sign-out"]').waitFor();
}

it('refuses a wrong admin key in words, and keeps the right one for the tab only', async () => {
  const page = await newPage(browser);
  await page.goto(`${api.url}/admin`);
  await page.locator('[data-field="admin-key"]').fill('not-the-admin-key-at-all');
  await page.locator('[data-action="sign-in"]').click();
  expect(await text(page.locator('.admin-sign-in .alert'))).toBe('The admin key is missing or wrong. Sign in again.');

  await page.locator('[data-field="admin-key"]').fill(ADMIN_KEY);
  await page.locator('[data-action="sign-in"]').click();
  await page.locator('[data-action="sign-out"]').waitFor();
  const storage = await page.evaluate(
    () =>
      [
        JSON.stringify((globalThis as unknown as { sessionStorage: object }).sessionStorage),
        JSON.stringify((globalThis as unknown as { localStorage: object }).localStorage),
      ] as const,
  );
  expect(storage[0]).toContain(ADMIN_KEY);
  expect(storage[1]).not.toContain(ADMIN_KEY);
  expect(page.url()).not.toContain(ADMIN_KEY);

  await page.locator('[data-action="sign-out"]').click();
  await page.locator('[data-field="admin-key"]').waitFor();
  expect(
    await page.evaluate(() => JSON.stringify((globalThis as unknown as { sessionStorage: object }).sessionStorage)),
  ).not.toContain(ADMIN_KEY);
  await page.context().close();
});

it('creates a seated show, blocks seats on its on-sale view, and the storefront shows them blocked', async () => {
  const page = await newPage(browser, 1280, 1000);
  await page.goto(`${api.url}/admin/shows/new`);
  await page.locator('[data-field="admin-key"]').fill(ADMIN_KEY);
  await page.locator('[data-action="sign-in"]').click();

  const form = page.locator('[data-form="new-show"]');
  await form.locator('[data-field="title"]').fill('Jazz at the Mill');
  await form.locator('[data-field="start_time"]').fill('2031-05-01T20:00');
  await form.locator('[data-field="section-name"]').first().fill('Stalls');
  const fill = form.locator('[data-quick-fill]').first();
  await fill.locator('[data-field="fill-from"]').fill('A');
  await fill.locator('[data-field="fill-to"]').fill('C');
  await fill.locator('[data-field="fill-seats"]').fill('12');
  await fill.locator('[data-field="fill-category"]').fill('Front');
  await fill.locator('[data-action="quick-fill"]').click();
  await fill.locator('[data-field="fill-from"]').fill('D');
  await fill.locator('[data-field="fill-to"]').fill('H');
  await fill.locator('[data-field="fill-seats"]').fill('14');
  await fill.locator('[data-field="fill-category"]').fill('Rear');
  await fill.locator('[data-action="quick-fill"]').click();
  await form.locator('[data-action="create-show"]').click();

  const created = page.locator('[data-created-show]');
  await created.waitFor();
  const showId = (await created.getAttribute('data-created-show'))!;
  const show = (await (await fetch(`${api.url}/api/shows/${showId}`)).json()) as Record<string, unknown>;
  expect(show).toMatchObject({ title: 'Jazz at the Mill', seating: 'assigned', total_seats: 3 * 12 + 5 * 14 });
  expect(show.available_by_category).toEqual({ Front: 36, Rear: 70 });

  // Some sales, so that the view has something to show.
  await book(api.url!, showId, { seat_ids: ['Stalls-A-6', 'Stalls-A-7'] }, true);
  await book(api.url!, showId, { seat_ids: ['Stalls-B-5', 'Stalls-B-6', 'Stalls-B-7'] }, false);
  await book(api.url!, showId, { seats: 4, category: 'Rear' }, true);

  await page.locator('[data-link="created-show"]').click();
  const count = (name: string) => page.locator(`[data-count="${name}"]`);
  await page.locator(`[data-count="sold"][data-value="6"]`).waitFor();
  expect(await count('held').getAttribute('data-value')).toBe('3');
  expect(await count('free').getAttribute('data-value')).toBe('97');

  const house = ['Stalls-H-1', 'Stalls-H-2', 'Stalls-H-3'];
  await seatsReach(page, house, 'F', 5_000);
  for (const id of house) await page.locator(`[data-seat="${id}"]`).click();
  await page.locator('[data-field="block-note"]').fill('Sound desk');
  await page.locator('[data-action="block"]').click();
  await page.locator('[data-count="blocked"][data-value="3"]').waitFor({ timeout: 5_000 });
  await seatsReach(page, house, 'B', 2_000);
  await page.locator('[data-list="blocks"] [data-block]').first().waitFor();
  expect(await page.locator('[data-list="blocks"] [data-block]').count()).toBe(1);
  await page.locator('[data-panel="house-seats"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('admin-on-sale') });

  const buyer = await newPage(browser);
  await buyer.goto(`${api.url}/shows/${showId}`);
  await seatsReach(buyer, house, 'B', 5_000);
  await seatsReach(buyer, ['Stalls-A-6', 'Stalls-A-7'], 'S', 1_000);
  await seatsReach(buyer, ['Stalls-B-5', 'Stalls-B-6', 'Stalls-B-7'], 'H', 1_000);
  // A blocked seat cannot be chosen.
  await buyer.locator('[data-seat="Stalls-H-1"]').click();
  expect(await text(buyer.locator('.chosen .seat-list'))).toBe('No seats chosen yet.');

  // Released in the box office, the seats are on sale again in the storefront.
  await page.locator('[data-list="blocks"] [data-action="release"]').first().click();
  await seatsReach(buyer, house, 'F', 2_000);
  await Promise.all([page.context().close(), buyer.context().close()]);
});

it('creates a general-admission show, issues a comp, finds it in the bookings, and changes a setting', async () => {
  const page = await newPage(browser);
  await signIn(page, '/admin/shows/new');
  const form = page.locator('[data-form="new-show"]');
  await form.locator('[data-field="title"]').fill('Open-air cinema');
  await form.locator('[data-field="start_time"]').fill('2031-06-01T21:30');
  await form.locator('[data-field="seating-general"]').check();
  await form.locator('[data-field="total_seats"]').fill('80');
  // Two ticket types, priced in pounds.
  const types = form.locator('[data-panel="ticket-types"]');
  await types.locator('[data-field="currency"]').fill('GBP');
  for (const [code, name, price] of [
    ['adult', 'Adult', '12.50'],
    ['child', 'Child', '6'],
  ]) {
    await types.locator('[data-action="add-type"]').click();
    const row = types.locator('.ticket-type-row').last();
    await row.locator('[data-field="type-code"]').fill(code!);
    await row.locator('[data-field="type-name"]').fill(name!);
    await row.locator('[data-field="type-price"]').fill(price!);
  }
  await form.locator('[data-action="create-show"]').click();
  await page.locator('[data-link="created-show"]').click();
  await page.locator('[data-count="free"][data-value="80"]').waitFor();
  const createdId = (await page.locator('article.on-sale').getAttribute('data-show'))!;
  const created = (await (await fetch(`${api.url}/api/shows/${createdId}`)).json()) as Show;
  expect(created.currency).toBe('GBP');
  expect(created.ticket_types.map(({ code, price }) => [code, price])).toEqual([
    ['adult', 1250],
    ['child', 600],
  ]);

  const house = page.locator('[data-panel="house-seats"]');
  await house.locator('[data-field="comp-seats"]').fill('2');
  await house.locator('[data-field="comp-customer"]').fill('guest-list');
  await house.locator('[data-action="comp"]').click();
  await page.locator('[data-count="sold"][data-value="2"]').waitFor({ timeout: 5_000 });
  // Sales by type: the comp is two tickets of the first type, for nothing.
  const sales = page.locator('[data-list="ticket-types"]');
  await sales.locator('tr[data-type="adult"] td', { hasText: /^2$/ }).first().waitFor({ timeout: 5_000 });
  expect(await sales.locator('[data-revenue]').getAttribute('data-revenue')).toBe('0');

  await page.locator('[data-field="booking-customer"]').fill('guest-list');
  await page.locator('[data-action="filter-bookings"]').click();
  const rows = page.locator('[data-list="bookings"] tr[data-booking]');
  await rows.first().waitFor();
  expect(await rows.count()).toBe(1);
  expect(await rows.first().getAttribute('data-status')).toBe('CONFIRMED');

  const settings = page.locator('[data-form="show-settings"]');
  await settings.locator('[data-field="max_seats_per_customer"]').fill('4');
  await settings.locator('[data-action="save-settings"]').click();
  const showId = (await page.locator('article.on-sale').getAttribute('data-show'))!;
  await expect
    .poll(async () => ((await (await fetch(`${api.url}/api/shows/${showId}`)).json()) as Show).max_seats_per_customer)
    .toBe(4);
  await page.context().close();
});

it('adds a webhook, shows its secret once, pings it, and retries a failed delivery from the log', async () => {
  const page = await newPage(browser);
  await signIn(page, '/admin/webhooks');
  await page.locator('[data-field="webhook-url"]').fill(receiver.url);
  await page.locator('[data-field="webhook-all-events"]').check();
  await page.locator('[data-action="create-webhook"]').click();
  const secret = await page.locator('[data-field="webhook-secret"]').inputValue();
  expect(secret).toMatch(/^whsec_/);
  await page.locator('[data-action="secret-saved"]').click();
  expect(await page.locator('[data-webhook-secret]').count()).toBe(0);

  await page.locator('[data-link="webhook"]').first().click();
  await page.locator('[data-action="test-webhook"]').click();
  // The first attempt is refused by the receiver: the log shows it, with its status.
  const row = page.locator('[data-list="deliveries"] tr[data-delivery]').first();
  await expect
    .poll(
      async () => {
        await page.locator('[data-action="refresh-deliveries"]').click();
        return row.locator('td.num').first().textContent();
      },
      { timeout: 10_000 },
    )
    .toBe('1');
  expect(await row.getAttribute('data-state')).toBe('pending');

  await row.locator('[data-action="retry-delivery"]').click();
  await expect
    .poll(
      async () => {
        await page.locator('[data-action="refresh-deliveries"]').click();
        return row.getAttribute('data-state');
      },
      { timeout: 10_000 },
    )
    .toBe('delivered');
  const received = await receiver.waitFor((all) => all.length >= 2);
  expect(new Set(received.map((request) => request.headers['webhook-id'])).size).toBe(1);
  for (const request of received) expect(verify(secret, request)).toMatchObject({ type: 'ping' });
  await page.context().close();
});
