import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics. Observations are per group, never per request, so the
 * hot path pays nothing measurable; process metrics (CPU, memory, event-loop lag) are read
 * when scraped. Labels stay bounded: never a show or booking id.
 */
export interface Metrics {
  registry: Registry;
  /** Told once per group a show lane committed (or failed). */
  groupDecided(this: void, kind: GroupKind, size: number, seconds: number): void;
}

/** `holds`: one hold_group statement on its own; `mixed`: a transaction that also confirms or cancels. */
export type GroupKind = 'holds' | 'mixed';

export function createMetrics(process: 'api' | 'worker'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'seat_hold_' });
  const groupSize = new Histogram({
    name: 'seat_hold_group_size',
    help: 'Requests (holds, confirms, cancels) decided together in one group of a show',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const groupDuration = new Histogram({
    name: 'seat_hold_group_duration_seconds',
    help: "Time a group's statement or transaction took: an upper bound of how long the show's lock was held",
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    groupDecided(kind, size, seconds) {
      groupSize.observe({ kind }, size);
      groupDuration.observe({ kind }, seconds);
    },
  };
}
