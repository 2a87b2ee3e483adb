import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../helpers.js';
import { admin, createSeatedShow, createShow, hold } from '../support/api.js';

// `npm run check:consistency` runs the built file; here the same entry point runs from source.
async function checkConsistency(databaseUrl: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/check-consistency.ts'], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestApp();
});
afterAll(() => ctx.close());

it('check:consistency exits 0 when every counter matches, 1 listing each show that differs', async () => {
  const show = await createShow(ctx.app, { title: 'Consistent', total_seats: 5 });
  await hold(ctx.app, show.id, 2);
  const fine = await checkConsistency(ctx.database.url);
  expect(fine).toEqual({ code: 0, output: 'checked 1 shows: counters match their bookings and seats\n' });

  // What a bug in the code would leave: a counter that no longer matches the rows.
  await ctx.pool.query('UPDATE shows SET held_seats = held_seats + 1 WHERE id = $1', [show.id]);
  const broken = await checkConsistency(ctx.database.url);
  expect(broken.code).toBe(1);
  expect(broken.output).toBe(
    `show ${show.id} "Consistent": held_seats 3 vs 2 in PENDING bookings; confirmed_seats 0 vs 0 in CONFIRMED bookings\n` +
      'checked 1 shows: 1 differ\n',
  );
});

it("check:consistency checks a seated show's seats against its category counters and bookings", async () => {
  const show = { id: await createSeatedShow(ctx.app, [{ label: 'A', seats: 4 }], 'S') };
  const held = await ctx.app.inject({ method: 'POST', url: `/api/shows/${show.id}/book`, payload: { seats: 2 } });
  expect(held.statusCode).toBe(201);
  await ctx.pool.query('DELETE FROM bookings WHERE show_id <> $1', [show.id]); // the first test's show is broken on purpose
  await ctx.pool.query('DELETE FROM ticket_types WHERE show_id <> $1', [show.id]);
  await ctx.pool.query('DELETE FROM shows WHERE id <> $1', [show.id]);
  expect(await checkConsistency(ctx.database.url)).toEqual({
    code: 0,
    output: 'checked 1 shows: counters match their bookings and seats\n',
  });

  await ctx.pool.query('UPDATE show_categories SET held_seats = 0 WHERE show_id = $1', [show.id]);
  const broken = await checkConsistency(ctx.database.url);
  expect(broken.code).toBe(1);
  expect(broken.output).toBe(
    `show ${show.id}: category standard: held_seats 0 vs 2 held seats, sold_seats 0 vs 0 sold seats, blocked_seats 0 vs 0 blocked seats\n` +
      `show ${show.id}: held_seats 2, confirmed_seats 0, blocked_seats 0, total_seats 4 vs 0 held, 0 sold, 0 blocked, 4 seats in its categories\n` +
      'checked 1 shows: 1 differ\n',
  );

  // What numbering seats on an out-of-date map would leave: a booking that names one seat and owns another.
  await ctx.pool.query('UPDATE show_categories SET held_seats = 2 WHERE show_id = $1', [show.id]);
  const booking = held.json<{ id: string; seat_ids: string[] }>();
  expect(booking.seat_ids).toEqual(['S-A-2', 'S-A-3']);
  await ctx.pool.query(`UPDATE bookings SET seat_ids = ARRAY['S-A-1', 'S-A-3'] WHERE id = $1`, [booking.id]);
  const misnamed = await checkConsistency(ctx.database.url);
  expect(misnamed).toEqual({
    code: 1,
    output:
      `show ${show.id}: booking ${booking.id} names seat S-A-1, which is seat number 1: S-A-2 on the map\n` +
      // …and its lines, priced on the seats it held, name others.
      `show ${show.id}: booking ${booking.id} sells 2 ticket(s) for 0 in its lines (seats {S-A-2,S-A-3}), not its 2 seat(s) for 0 (seats {S-A-1,S-A-3})\n` +
      'checked 1 shows: 1 differ\n',
  });

  // A total that is not what its lines add up to.
  await ctx.pool.query(`UPDATE bookings SET seat_ids = ARRAY['S-A-2', 'S-A-3'], total = 100 WHERE id = $1`, [
    booking.id,
  ]);
  expect(await checkConsistency(ctx.database.url)).toEqual({
    code: 1,
    output:
      `show ${show.id}: booking ${booking.id} sells 2 ticket(s) for 0 in its lines (seats {S-A-2,S-A-3}), not its 2 seat(s) for 100 (seats {S-A-2,S-A-3})\n` +
      'checked 1 shows: 1 differ\n',
  });
});

it('check:consistency checks blocks and comps: blocked seats against active blocks', async () => {
  await ctx.pool.query('DELETE FROM seats');
  await ctx.pool.query('DELETE FROM show_categories');
  await ctx.pool.query('DELETE FROM bookings');
  await ctx.pool.query('DELETE FROM ticket_types');
  await ctx.pool.query('DELETE FROM shows');
  const show = await createShow(ctx.app, { title: 'House', total_seats: 10 });
  const blocked = await ctx.app.inject({
    method: 'POST',
    url: `/api/shows/${show.id}/blocks`,
    headers: admin,
    payload: { seats: 3 },
  });
  expect(blocked.statusCode).toBe(201);
  const comp = await ctx.app.inject({
    method: 'POST',
    url: `/api/shows/${show.id}/comps`,
    headers: admin,
    payload: { seats: 1, block_id: blocked.json<{ id: string }>().id },
  });
  expect(comp.statusCode).toBe(201);
  expect(await checkConsistency(ctx.database.url)).toEqual({
    code: 0,
    output: 'checked 1 shows: counters match their bookings and seats\n',
  });

  // What a bug would leave: a block released without its seats coming back.
  await ctx.pool.query('UPDATE seat_blocks SET released_at = now()');
  const broken = await checkConsistency(ctx.database.url);
  expect(broken.code).toBe(1);
  expect(broken.output).toBe(
    `show ${show.id}: blocked_seats 2 vs 0 seats in its active blocks\n` + 'checked 1 shows: 1 differ\n',
  );
});

it('check:consistency without DATABASE_URL says so and exits 1', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/check-consistency.ts'], {
    env: { PATH: process.env.PATH ?? '' },
    cwd: process.cwd(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(1);
  expect(stderr).toBe('check:consistency needs DATABASE_URL\n');
});
