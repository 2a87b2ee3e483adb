import type { Pool, PoolClient } from '../adapters/postgres/pool.js';
import type { OutboxRow } from '../domain/events.js';
import type {
  DeliveryState,
  WebhookAttempt,
  WebhookChanges,
  WebhookDelivery,
  WebhookEndpoint,
} from '../domain/webhook.js';
import type { OutboxPosition } from './outbox.repository.js';

const endpointColumns = 'id, url, events, description, enabled, created_at, updated_at';

/** What the queue needs to schedule an attempt of a delivery. */
export interface DueDelivery {
  id: string;
  endpoint_id: string;
  attempts: number;
  next_attempt_at: Date;
}
const dueColumns = 'id, endpoint_id, attempts, next_attempt_at';

/** A delivery leased for one attempt: what to send, where, and with which secret. */
export interface LeasedDelivery extends DueDelivery {
  lease_token: string;
  url: string;
  secret: string;
  enabled: boolean;
  event: OutboxRow;
}

/** The outcome of one attempt, as recorded. */
export interface AttemptOutcome {
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  delivered: boolean;
  /** Delay before the next attempt if this one failed (the window end caps it). */
  retryDelayMs: number;
  retryWindowSeconds: number;
  /** Fail now whatever the window says (a disabled endpoint). */
  giveUp?: boolean;
}

export type DeliveryRow = Omit<WebhookDelivery, 'attempt_log'> & { createdAtExact: string };

/** Events for the relay to turn into deliveries. */
export interface RelayedEvent {
  seq: string;
  type: string;
  endpoint_id: string | null;
}

/** Webhook endpoints, their deliveries and attempts, and the relay's cursor: every statement is here. */
export class WebhookRepository {
  constructor(private readonly pool: Pool) {}

  async createEndpoint(
    endpoint: { url: string; events: string[]; description: string | null; secret: string },
    db: Pool | PoolClient = this.pool,
  ): Promise<WebhookEndpoint> {
    const { rows } = await db.query<WebhookEndpoint>(
      `INSERT INTO webhook_endpoints (url, events, description, secret) VALUES ($1, $2, $3, $4)
       RETURNING ${endpointColumns}`,
      [endpoint.url, endpoint.events, endpoint.description, endpoint.secret],
    );
    return rows[0]!;
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `SELECT ${endpointColumns} FROM webhook_endpoints ORDER BY created_at, id`,
    );
    return rows;
  }

  async endpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `SELECT ${endpointColumns} FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async updateEndpoint(id: string, changes: WebhookChanges): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.pool.query<WebhookEndpoint>(
      `UPDATE webhook_endpoints SET
         url = COALESCE($2, url),
         events = COALESCE($3, events),
         enabled = COALESCE($4, enabled),
         description = CASE WHEN $5 THEN $6 ELSE description END,
         updated_at = now()
       WHERE id = $1 RETURNING ${endpointColumns}`,
      [
        id,
        changes.url ?? null,
        changes.events ?? null,
        changes.enabled ?? null,
        changes.description !== undefined,
        changes.description ?? null,
      ],
    );
    return rows[0];
  }

  /** Deletes the endpoint with its deliveries and their attempts (by cascade). */
  async deleteEndpoint(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
    return rowCount === 1;
  }

  /** The relay's cursor, locked for this transaction; undefined while another relay holds it. */
  async lockCursor(client: PoolClient, name: string): Promise<OutboxPosition | undefined> {
    const { rows } = await client.query<OutboxPosition>(
      'SELECT tx::text, seq::text FROM outbox_cursors WHERE name = $1 FOR UPDATE SKIP LOCKED',
      [name],
    );
    return rows[0];
  }

  async moveCursor(client: PoolClient, name: string, position: OutboxPosition): Promise<void> {
    await client.query('UPDATE outbox_cursors SET tx = $2::xid8, seq = $3::bigint WHERE name = $1', [
      name,
      position.tx,
      position.seq,
    ]);
  }

  /**
   * One delivery per (event, enabled endpoint subscribed to its type); a ping only to its own
   * endpoint (whose delivery POST /test made already). One statement for the whole page.
   */
  async insertDeliveries(client: PoolClient, events: RelayedEvent[]): Promise<DueDelivery[]> {
    if (events.length === 0) return [];
    const { rows } = await client.query<DueDelivery>(
      `INSERT INTO webhook_deliveries (endpoint_id, event_seq)
       SELECT w.id, e.seq
       FROM unnest($1::bigint[], $2::text[], $3::uuid[]) WITH ORDINALITY AS e(seq, type, endpoint_id, n)
       JOIN webhook_endpoints w
         ON CASE WHEN e.endpoint_id IS NOT NULL THEN w.id = e.endpoint_id
                 ELSE w.enabled AND (e.type = ANY (w.events) OR '*' = ANY (w.events)) END
       ORDER BY e.n, w.id
       ON CONFLICT (endpoint_id, event_seq) DO NOTHING
       RETURNING ${dueColumns}`,
      [events.map((e) => e.seq), events.map((e) => e.type), events.map((e) => e.endpoint_id)],
    );
    return rows;
  }

  /** A ping event for one endpoint and its delivery, in the caller's transaction. */
  async insertPing(client: PoolClient, endpointId: string): Promise<DueDelivery> {
    const { rows } = await client.query<DueDelivery>(
      `WITH event AS (
         INSERT INTO outbox_events (type, endpoint_id, occurred_at, data)
         VALUES ('ping', $1, now(), jsonb_build_object('webhook_id', $1::uuid))
         RETURNING seq)
       INSERT INTO webhook_deliveries (endpoint_id, event_seq) SELECT $1, seq FROM event
       RETURNING ${dueColumns}`,
      [endpointId],
    );
    return rows[0]!;
  }

  /**
   * Takes the delivery for one attempt if it is pending and due (a lease in force keeps it
   * not due): its next attempt moves to the lease's end, so if this sender dies the delivery
   * falls due again by itself. A plain conditional UPDATE: no row lock outlives it.
   */
  async lease(id: string, leaseMs: number): Promise<LeasedDelivery | undefined> {
    const { rows } = await this.pool.query<
      DueDelivery & { lease_token: string; url: string; secret: string; enabled: boolean; event: OutboxRow }
    >(
      `WITH leased AS (
         UPDATE webhook_deliveries
         SET leased_until = now() + make_interval(secs => $2::double precision / 1000),
             next_attempt_at = now() + make_interval(secs => $2::double precision / 1000),
             lease_token = gen_random_uuid()
         WHERE id = $1 AND state = 'pending' AND next_attempt_at <= now()
         RETURNING id, endpoint_id, event_seq, attempts, next_attempt_at, lease_token)
       SELECT l.id, l.endpoint_id, l.attempts, l.next_attempt_at, l.lease_token, w.url, w.secret, w.enabled,
              json_build_object('seq', e.seq::text, 'id', e.id, 'type', e.type, 'show_id', e.show_id,
                                'occurred_at', e.occurred_at, 'data', e.data) AS event
       FROM leased l
       JOIN webhook_endpoints w ON w.id = l.endpoint_id
       JOIN outbox_events e ON e.seq = l.event_seq`,
      [id, leaseMs],
    );
    const row = rows[0];
    if (!row) return undefined;
    // json_build_object hands the timestamp over as text.
    row.event.occurred_at = new Date(row.event.occurred_at);
    return row;
  }

  /** How long until a pending delivery falls due (0 or less: due), or undefined if it is not pending. */
  async msUntilDue(id: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ ms: number }>(
      `SELECT (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS ms
       FROM webhook_deliveries WHERE id = $1 AND state = 'pending'`,
      [id],
    );
    return rows[0]?.ms;
  }

  /**
   * Records an attempt and the delivery's new state in one statement. Only the lease's holder
   * moves the state (a lease lost to a manual retry still logs its attempt).
   */
  async record(
    id: string,
    leaseToken: string,
    outcome: AttemptOutcome,
  ): Promise<(DueDelivery & { state: DeliveryState }) | undefined> {
    const { rows } = await this.pool.query<DueDelivery & { state: DeliveryState }>(
      `WITH window_end AS (
         SELECT retry_from + make_interval(secs => $8) AS at FROM webhook_deliveries WHERE id = $1),
       moved AS (
         UPDATE webhook_deliveries d SET
           attempts = d.attempts + 1,
           last_status_code = $4,
           state = CASE WHEN $3 THEN 'delivered'
                        WHEN $9 OR now() >= w.at THEN 'failed'
                        ELSE 'pending' END,
           next_attempt_at = CASE WHEN $3 OR $9 OR now() >= w.at THEN d.next_attempt_at
                                  ELSE LEAST(now() + make_interval(secs => $7::double precision / 1000), w.at) END,
           delivered_at = CASE WHEN $3 THEN now() END,
           failed_at = CASE WHEN NOT $3 AND ($9 OR now() >= w.at) THEN now() END,
           leased_until = NULL,
           lease_token = NULL
         FROM window_end w
         WHERE d.id = $1 AND d.lease_token = $2
         RETURNING d.id, d.endpoint_id, d.attempts, d.next_attempt_at, d.state),
       logged AS (
         INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, error)
         SELECT $1, $5, $4, $6, $10 FROM window_end)
       SELECT * FROM moved`,
      [
        id,
        leaseToken,
        outcome.delivered,
        outcome.statusCode,
        outcome.attemptedAt,
        outcome.durationMs,
        outcome.retryDelayMs,
        outcome.retryWindowSeconds,
        outcome.giveUp ?? false,
        outcome.error,
      ],
    );
    return rows[0];
  }

  /** Pending deliveries that are due (none leased: a lease in force is not due), oldest due first. */
  async due(limit: number): Promise<DueDelivery[]> {
    const { rows } = await this.pool.query<DueDelivery>(
      `SELECT ${dueColumns} FROM webhook_deliveries
       WHERE state = 'pending' AND next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT $1`,
      [limit],
    );
    return rows;
  }

  /** A page of an endpoint's deliveries, newest first, after the keyset (created_at, id). */
  async deliveries(
    endpointId: string,
    state: DeliveryState | undefined,
    limit: number,
    after: { createdAt: string; id: string } | null,
  ): Promise<DeliveryRow[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT d.id, e.id AS event_id, e.type AS event_type, d.state, d.attempts,
              CASE WHEN d.state = 'pending' THEN d.next_attempt_at END AS next_attempt_at,
              d.last_status_code, d.created_at, d.delivered_at, d.failed_at,
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAtExact"
       FROM webhook_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
       WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.state = $2)
         AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < ($4::timestamptz, $5::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $3`,
      [endpointId, state ?? null, limit, after?.createdAt ?? null, after?.id ?? null],
    );
    return rows;
  }

  /** The attempts of these deliveries, oldest first. */
  async attemptsOf(deliveryIds: string[]): Promise<(WebhookAttempt & { delivery_id: string })[]> {
    if (deliveryIds.length === 0) return [];
    const { rows } = await this.pool.query<WebhookAttempt & { delivery_id: string }>(
      `SELECT delivery_id, attempted_at, status_code, duration_ms, error FROM webhook_attempts
       WHERE delivery_id = ANY ($1::uuid[]) ORDER BY attempted_at, id`,
      [deliveryIds],
    );
    return rows;
  }

  /**
   * Makes the delivery pending and due now with a new retry window (a manual resend); a lease
   * in force is voided, so the attempt in flight, if any, no longer decides the state.
   */
  async retry(endpointId: string, deliveryId: string): Promise<DueDelivery | undefined> {
    const { rows } = await this.pool.query<DueDelivery>(
      `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(), retry_from = now(),
              leased_until = NULL, lease_token = NULL, delivered_at = NULL, failed_at = NULL
       WHERE id = $2 AND endpoint_id = $1 RETURNING ${dueColumns}`,
      [endpointId, deliveryId],
    );
    return rows[0];
  }

  /**
   * Deletes up to `limit` outbox events older than the retention that the relay has passed and
   * that no pending delivery still needs (their deliveries and attempts go with them).
   */
  async purgeOutbox(retentionHours: number, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM outbox_events WHERE seq IN (
         SELECT e.seq FROM outbox_events e, outbox_cursors c
         WHERE c.name = 'webhooks' AND (e.tx, e.seq) <= (c.tx, c.seq)
           AND e.occurred_at < now() - make_interval(hours => $1)
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending')
         ORDER BY e.tx, e.seq LIMIT $2)`,
      [retentionHours, limit],
    );
    return rowCount ?? 0;
  }
}
