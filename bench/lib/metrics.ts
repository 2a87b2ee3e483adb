import type pg from 'pg';
import { holdGroups } from './database.js';

/** The hold-group histograms of GET /metrics (Prometheus text): sums and counts over every label set. */
interface GroupHistograms {
  sizeSum: number;
  sizeCount: number;
  durationSum: number;
  durationCount: number;
}

export interface GroupStats {
  /** Mean requests per hold group. */
  meanGroup?: number;
  /** Mean time a group's statement or transaction held the show's lock, in ms (metrics only). */
  lockHoldMs?: number;
  /** Where the numbers come from. */
  source: 'metrics' | 'database' | 'none';
}

const SIZE = 'seat_hold_group_size';
const DURATION = 'seat_hold_group_duration_seconds';

export function parseGroupHistograms(text: string): GroupHistograms {
  const totals: GroupHistograms = { sizeSum: 0, sizeCount: 0, durationSum: 0, durationCount: 0 };
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    if (match[1] === `${SIZE}_sum`) totals.sizeSum += value;
    else if (match[1] === `${SIZE}_count`) totals.sizeCount += value;
    else if (match[1] === `${DURATION}_sum`) totals.durationSum += value;
    else if (match[1] === `${DURATION}_count`) totals.durationCount += value;
  }
  return totals;
}

/** GET /metrics with the admin key; undefined when it does not answer 200 (404 before the endpoint exists). */
export async function scrapeGroups(url: string, adminKey: string): Promise<GroupHistograms | undefined> {
  try {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    return parseGroupHistograms(await response.text());
  } catch {
    return undefined;
  }
}

/**
 * Mean hold-group size and lock-hold time over what happens between start and finish: from
 * the /metrics histograms when the service has them (Δsum / Δcount), else the group size from
 * the database (holds per distinct (show, created_at) of the given shows' bookings, made after
 * `after` if given: one group's holds share created_at) and no lock-hold time.
 */
export async function groupMeter(url: string, adminKey: string) {
  const before = await scrapeGroups(url, adminKey);
  return async (db: pg.Pool, showIds: string[], after?: number): Promise<GroupStats> => {
    const now = before ? await scrapeGroups(url, adminKey) : undefined;
    if (before && now) {
      const groups = now.sizeCount - before.sizeCount;
      const timed = now.durationCount - before.durationCount;
      return {
        source: 'metrics',
        ...(groups > 0 ? { meanGroup: (now.sizeSum - before.sizeSum) / groups } : {}),
        ...(timed > 0 ? { lockHoldMs: (1000 * (now.durationSum - before.durationSum)) / timed } : {}),
      };
    }
    if (showIds.length === 0) return { source: 'none' };
    const { holds, groups } = await holdGroups(db, showIds, after);
    return { source: 'database', ...(groups > 0 ? { meanGroup: holds / groups } : {}) };
  };
}
