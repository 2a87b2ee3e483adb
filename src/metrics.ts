import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Pool } from './adapters/postgres/pool.js';

/** `holds`: one hold_group statement on its own; `mixed`: a transaction that also confirms, cancels or extends. */
export type GroupKind = 'holds' | 'mixed';

/** How an overdue hold was turned EXPIRED. */
export type ExpiryPath = 'job' | 'sweep' | 'reclaim' | 'late_action';

/** BullMQ job counts by state, for the queue gauge. */
export type QueueCounts = () => Promise<Record<string, number>>;

/**
 * The process's Prometheus metrics. The hot path pays per group, not per request, except
 * for one histogram observation per HTTP request and per queued request; process metrics
 * (CPU, memory, event-loop lag), the pool and the queue are read when scraped. Labels stay
 * bounded: a route pattern, a status, an outcome; never a show or booking id.
 */
export interface Metrics {
  registry: Registry;
  /** One HTTP request answered: its route pattern ("unmatched" for none), method and status. */
  requestAnswered(this: void, route: string, method: string, status: number, seconds: number): void;
  /** Once per group a show lane decided (committed or failed). */
  groupDecided(this: void, kind: GroupKind, size: number, seconds: number): void;
  /** How long one request waited in its show's queue before its group started. */
  queueWaited(this: void, seconds: number): void;
  /** Hold answers of a group by outcome (`held`, `sold_out`, `show_started`, …). */
  holdsAnswered(this: void, outcome: string, count: number): void;
  /** One confirm, cancel or extend answered: `confirmed`, `cancelled`, `extended` or the refusal's code. */
  actionAnswered(this: void, action: 'confirm' | 'cancel' | 'extend', result: string): void;
  /** Holds turned EXPIRED by one path, with how late each was (seconds past expires_at), when known. */
  expired(this: void, path: ExpiryPath, count: number, lateSeconds?: readonly number[]): void;
  /** Reads the pool's connections (total, idle, waiting) on every scrape. */
  watchPool(this: void, pool: Pool): void;
  /** Reads the expiry queue's job counts on every scrape. */
  watchQueue(this: void, counts: QueueCounts): void;
  /** One webhook delivery attempt made: `delivered`, `retry` (failed, another is scheduled) or `failed` (for good). */
  webhookAttempted(this: void, outcome: 'delivered' | 'retry' | 'failed', seconds: number): void;
  /** Reads how many availability streams (SSE) this process has open, on every scrape. */
  watchStreams(this: void, open: () => number): void;
}

export function createMetrics(process: 'api' | 'worker'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'seat_hold_' });
  const registers = [registry];

  const requestDuration = new Histogram({
    name: 'seat_hold_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status: count (rate) and latency',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers,
  });
  const requestChildren = new Map<string, ReturnType<typeof requestDuration.labels>>();
  const groupSize = new Histogram({
    name: 'seat_hold_group_size',
    help: 'Requests (holds, confirms, cancels) decided together in one group of a show',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers,
  });
  const groupDuration = new Histogram({
    name: 'seat_hold_group_duration_seconds',
    help: "Time a group's statement or transaction took: an upper bound of how long the show's lock was held",
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const queueWait = new Histogram({
    name: 'seat_hold_queue_wait_seconds',
    help: "Time a request waited in its show's queue before its group started",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers,
  });
  const holds = new Counter({
    name: 'seat_hold_holds_total',
    help: 'Hold requests decided, by outcome: held, or the reason refused',
    labelNames: ['outcome'],
    registers,
  });
  const actions = new Counter({
    name: 'seat_hold_booking_actions_total',
    help: 'Confirms, cancels and extends decided, by result: confirmed, cancelled, extended, or the refusal code',
    labelNames: ['action', 'result'],
    registers,
  });
  const expiries = new Counter({
    name: 'seat_hold_expired_holds_total',
    help: 'Holds turned EXPIRED, by path: job (BullMQ), sweep, reclaim (a group short of seats), late_action (a late confirm, extend or cancel)',
    labelNames: ['path'],
    registers,
  });
  const expiryLag = new Histogram({
    name: 'seat_hold_expiry_lag_seconds',
    help: 'Time from a hold expires_at to its EXPIRED status, where the path knows it (job, sweep)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });

  const webhookAttempts = new Histogram({
    name: 'seat_hold_webhook_attempts_seconds',
    help: 'Webhook delivery attempts by outcome (delivered, retry, failed: for good): count (rate) and how long each took',
    labelNames: ['outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  let openStreams: (() => number) | undefined;
  new Gauge({
    name: 'seat_hold_sse_streams',
    help: 'Availability streams (GET /api/shows/:id/availability/stream) open on this process',
    registers,
    collect() {
      if (openStreams) this.set(openStreams());
    },
  });

  let pool: Pool | undefined;
  new Gauge({
    name: 'seat_hold_db_pool_connections',
    help: 'Database pool connections by state: total, idle, waiting (requests waiting for a connection)',
    labelNames: ['state'],
    registers,
    collect() {
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  let queueCounts: QueueCounts | undefined;
  new Gauge({
    name: 'seat_hold_queue_jobs',
    help: 'BullMQ expiry queue jobs by state (waiting, delayed, active, failed)',
    labelNames: ['state'],
    registers,
    async collect() {
      if (!queueCounts) return;
      try {
        for (const [state, count] of Object.entries(await queueCounts())) this.set({ state }, count);
      } catch {
        // Redis unreachable: the last counts stay; readiness reports the outage.
      }
    },
  });

  return {
    registry,
    requestAnswered(route, method, status, seconds) {
      // One child per route, method and status, found by one string: labels given as an object are
      // sorted and joined into a key on every observation.
      const key = `${method} ${status} ${route}`;
      let child = requestChildren.get(key);
      if (!child) {
        child = requestDuration.labels({ route, method, status });
        requestChildren.set(key, child);
      }
      child.observe(seconds);
    },
    groupDecided(kind, size, seconds) {
      groupSize.observe({ kind }, size);
      groupDuration.observe({ kind }, seconds);
    },
    queueWaited(seconds) {
      queueWait.observe(seconds);
    },
    holdsAnswered(outcome, count) {
      holds.inc({ outcome }, count);
    },
    actionAnswered(action, result) {
      actions.inc({ action, result });
    },
    expired(path, count, lateSeconds) {
      if (count > 0) expiries.inc({ path }, count);
      for (const late of lateSeconds ?? []) expiryLag.observe(late);
    },
    watchPool(watched) {
      pool = watched;
    },
    watchQueue(counts) {
      queueCounts = counts;
    },
    webhookAttempted(outcome, seconds) {
      webhookAttempts.observe({ outcome }, seconds);
    },
    watchStreams(open) {
      openStreams = open;
    },
  };
}
