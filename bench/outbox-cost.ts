/**
 * `npm run bench:outbox`: what the outbox costs the hot path, inside the statement that holds a
 * show's lock. The same hold groups (hold_group, 32 holds each, as the hot show's lanes send
 * them) run with the trigger that records their `booking.held` events disabled and enabled,
 * alternating rounds on one database, so the machine's noise falls on both alike. Prints the
 * median milliseconds per statement of each, and the difference per event.
 *
 *   npm run bench:outbox -- --rounds 6 --groups 300 --size 32
 *
 * Talks only to DATABASE_URL's server (default 127.0.0.1); its own database, dropped after.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../src/adapters/postgres/migrate.js';
import { freshDatabase } from './lib/database.js';
import { log } from './lib/log.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    groups: { type: 'string', default: '300' },
    size: { type: 'string', default: '32' },
  },
});
const [rounds, groups, size] = [Number(args.rounds), Number(args.groups), Number(args.size)];

const database = await freshDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const client = new pg.Client({ connectionString: database.url });
try {
  await migrate(database.url, () => {});
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO shows (title, start_time, total_seats, currency)
       VALUES ('outbox cost', now() + interval '1 day', 100000000, 'EUR') RETURNING id),
     types AS (INSERT INTO ticket_types (show_id, code, position, name, price) SELECT id, 'standard', 1, 'Admission', 0 FROM inserted)
     SELECT id FROM inserted`,
  );
  const showId = rows[0]!.id;

  /** Mean milliseconds per hold_group statement of `size` holds, over `count` of them. */
  const run = async (count: number): Promise<number> => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const ids = Array.from({ length: size }, () => showId.slice(0, 8) + randomUUID().slice(8));
      await client.query(
        `SELECT count(*) FROM core.hold_group($1, 120, NULL, $2::uuid[], $3::int[], $4::bytea[], $5::text[],
                                         NULL, NULL, NULL, NULL, NULL, 0, $6::jsonb[], $7::bigint[])`,
        [
          showId,
          ids,
          ids.map(() => 1),
          ids.map(() => randomBytes(32)),
          ids.map(() => null),
          ids.map(() => '[{"type":"standard","name":"Admission","quantity":1,"unit_price":0}]'),
          ids.map(() => 0),
        ],
      );
    }
    return Number(process.hrtime.bigint() - started) / 1e6 / count;
  };
  const events = (on: boolean) =>
    client.query(`ALTER TABLE bookings ${on ? 'ENABLE' : 'DISABLE'} TRIGGER bookings_record_inserts`);

  log(`warming up, then ${rounds} rounds of ${groups} groups of ${size} holds, events off then on`);
  await run(groups);
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    await events(false);
    off.push(await run(groups));
    await events(true);
    on.push(await run(groups));
    log(`round ${round}: ${off.at(-1)!.toFixed(3)} ms without events, ${on.at(-1)!.toFixed(3)} ms with`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const [withoutEvents, withEvents] = [median(off), median(on)];
  process.stdout.write(
    `hold_group of ${size} holds, median of ${rounds} rounds: ${withoutEvents.toFixed(3)} ms without its events, ` +
      `${withEvents.toFixed(3)} ms with (${(withEvents / withoutEvents).toFixed(2)}×): ` +
      `${(((withEvents - withoutEvents) * 1000) / size).toFixed(1)} µs per event, in the show's lock\n`,
  );
} finally {
  await client.end();
  await database.drop();
}
