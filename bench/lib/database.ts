import pg from 'pg';

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * The bench's own database beside the one of baseUrl, dropped and created anew. Named per run
 * (seat_hold_bench_<pid>), as other checkouts may run their bench on the same server at the
 * same time; BENCH_DATABASE names it instead (and keeps it after the run).
 */
export async function freshDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = process.env.BENCH_DATABASE ?? `seat_hold_bench_${process.pid}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_DATABASE: not a plain database name: ${name}`);
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  return {
    url: withDatabase(baseUrl, name),
    drop: () =>
      process.env.BENCH_DATABASE ? Promise.resolve() : admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** The one free type a show created without ticket types has, for the shows of `inserted`. */
const STANDARD_TYPE = `types AS (
  INSERT INTO ticket_types (show_id, code, position, name, price)
  SELECT id, 'standard', 1, 'Admission', 0 FROM inserted)`;

/**
 * Straight into the table: the API caps total_seats at 100000, the hot show needs 10 million.
 * The id may be given (the pgbench baseline computes its shows' ids).
 */
export async function insertShow(db: pg.Pool, title: string, seats: number, id?: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO shows (id, title, start_time, total_seats, currency)
       VALUES (coalesce($3::uuid, gen_random_uuid()), $1, now() + interval '30 days', $2, 'EUR') RETURNING id),
     ${STANDARD_TYPE}
     SELECT id FROM inserted`,
    [title, seats, id ?? null],
  );
  return rows[0]!.id;
}

export async function insertShows(db: pg.Pool, title: string, count: number, seats: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO shows (title, start_time, total_seats, currency)
       SELECT $1 || ' ' || i, now() + interval '30 days', $3, 'EUR' FROM generate_series(1, $2) AS i RETURNING id),
     ${STANDARD_TYPE}
     SELECT id FROM inserted`,
    [title, count, seats],
  );
  return rows.map((row) => row.id);
}

/**
 * Holds and hold groups of some shows (made after `after`, epoch ms, when given): one group's
 * holds share created_at, the instant of the one statement that wrote them.
 */
export async function holdGroups(
  db: pg.Pool,
  showIds: string[],
  after?: number,
): Promise<{ holds: number; groups: number }> {
  const { rows } = await db.query<{ holds: number; groups: number }>(
    `SELECT count(*)::int AS holds, count(DISTINCT (show_id, created_at))::int AS groups
     FROM bookings
     WHERE show_id = ANY($1::uuid[]) AND ($2::float8 IS NULL OR created_at > to_timestamp($2::float8 / 1000))`,
    [showIds, after ?? null],
  );
  return rows[0]!;
}
