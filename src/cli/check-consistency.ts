import { ConfigError } from '../config.js';
import { createPool } from '../adapters/postgres/pool.js';
import { ShowRepository, type CounterMismatch } from '../repositories/show.repository.js';
import { runEntryPoint } from '../runtime.js';

// `npm run check:consistency`: compares every show's seat counters with its booking rows and
// blocks (and a seated show's seats with all of them) and lists each difference. Exit 0 when all agree, 1 when any differs (or on failure).

function describe(show: CounterMismatch): string {
  const parts = [
    `held_seats ${show.heldSeats} vs ${show.pendingRowSeats} in PENDING bookings`,
    `confirmed_seats ${show.confirmedSeats} vs ${show.confirmedRowSeats} in CONFIRMED bookings`,
  ];
  if (show.heldSeats + show.confirmedSeats + show.blockedSeats > show.totalSeats) {
    parts.push(`more than its ${show.totalSeats} seats (with ${show.blockedSeats} blocked)`);
  }
  return `show ${show.id} ${JSON.stringify(show.title)}: ${parts.join('; ')}`;
}

await runEntryPoint('Consistency check', async (config) => {
  if (!config.DATABASE_URL) throw new ConfigError('check:consistency needs DATABASE_URL');
  // A read-only report over every show: no statement timeout cuts it short on a large database.
  const pool = createPool(config.DATABASE_URL, { max: 2, lockTimeoutMs: 0, statementTimeoutMs: 0 });
  try {
    const { checked, mismatches, seatMismatches } = await new ShowRepository(pool).counterMismatches();
    for (const show of mismatches) process.stdout.write(`${describe(show)}\n`);
    for (const seat of seatMismatches) process.stdout.write(`show ${seat.id}: ${seat.problem}\n`);
    const differ = new Set([...mismatches.map((show) => show.id), ...seatMismatches.map((seat) => seat.id)]).size;
    process.stdout.write(
      differ === 0
        ? `checked ${checked} shows: counters match their bookings and seats\n`
        : `checked ${checked} shows: ${differ} differ\n`,
    );
    process.exitCode = differ === 0 ? 0 : 1;
  } finally {
    await pool.end();
  }
});
