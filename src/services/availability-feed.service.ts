import type { AvailabilityUpdate, SeatsUpdate } from '../domain/availability.js';
import type { Logger } from '../logger.js';
import { before, type AvailabilityRepository, type AvailabilityRow } from '../repositories/availability.repository.js';
import {
  positionText,
  type OutboxChange,
  type OutboxPosition,
  type OutboxRepository,
} from '../repositories/outbox.repository.js';
import type { SeatPlans } from './seat-plans.service.js';

/** Where a stream's frames go (the HTTP layer's response). */
export interface StreamSink {
  /** Writes one or more Server-Sent Events frames; a sink whose client is too slow drops itself. */
  write(frames: string): void;
  /** Ends the stream (the process is shutting down). */
  end(): void;
  /** The client went away (or was dropped): nothing more is written. */
  readonly closed: boolean;
}

/**
 * Where a new stream starts: `null` at the current state; a position (Last-Event-ID) to resume
 * from; `invalid` for a Last-Event-ID that is not one (a reset snapshot).
 */
export type StreamStart = OutboxPosition | 'invalid' | null;

export interface AvailabilityFeedOptions {
  outbox: OutboxRepository;
  availability: AvailabilityRepository;
  plans: SeatPlans;
  logger: Logger;
  /** SSE_MIN_INTERVAL_MS: at most one update per show this often, and the outbox read as often. */
  intervalMs: number;
  /** SSE_HEARTBEAT_SECONDS, in ms. */
  heartbeatMs: number;
}

interface Stream {
  showId: string;
  sink: StreamSink;
  start: StreamStart;
  removed: boolean;
}

interface Watched {
  streams: Set<Stream>;
  /**
   * New streams, with the position of their snapshot: a read of the outbox that ends at or
   * before it holds only changes their snapshot already has, which they are not sent again.
   */
  joining: Map<Stream, OutboxPosition>;
  /** The seat map version the streams' seat ids were last sent in; a new one is a reset. */
  mapVersion: number | undefined;
}

/** One show's changes in one read of the outbox. */
interface ShowChanges {
  seatIds: Set<string>;
  changedAt: Date;
  /** The position of the last of them. */
  last: OutboxPosition;
}

// The outbox is read in pages of this many changes, at most this many pages a tick: a hot
// show's backlog is caught up over several ticks rather than in one long read.
const PAGE = 5_000;
const MAX_PAGES = 20;
/**
 * A Last-Event-ID with this many of its show's seat changes after it gets a reset snapshot instead.
 * The replay reads only its own show's seat changes (OutboxRepository.seatChangesAfter), at most
 * this many, whatever position a client sends: a resume costs what it returns.
 */
export const MAX_REPLAY = 10_000;

/**
 * Live availability for this process's open streams: it follows the outbox (the committed,
 * ordered record of every change, whichever process or worker made it) from one cursor. While
 * a stream is open, every intervalMs it reads the changes of the shows that have streams, then
 * reads those shows' availability now, and the state now of the seats the changes name, in one
 * statement, and writes each show's update, serialized once, to each of its streams. Sending
 * the state at send time, not the events, makes their order within a tick irrelevant and
 * coalesces any burst into one update per show per tick.
 *
 * A stream's first event is a snapshot read after it subscribed, sent as soon as the feed is
 * free (between ticks); its id is a position every later change of the show is after.
 */
export class AvailabilityFeed {
  private readonly watched = new Map<string, Watched>();
  private pending: Stream[] = [];
  /** Every open stream, wherever it is (waiting for its snapshot, in a pass, watched). */
  private readonly all = new Set<Stream>();
  /** Every change before it has been sent to the streams of its show (null: no stream yet). */
  private cursor: OutboxPosition | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: AvailabilityFeedOptions) {}

  /** Open streams (those still waiting for their first event included). */
  get size(): number {
    return this.all.size;
  }

  /** Adds a stream of the show; its first event follows shortly. Returns how to remove it. */
  subscribe(showId: string, start: StreamStart, sink: StreamSink): () => void {
    if (this.closed) {
      sink.end();
      return () => {};
    }
    const stream: Stream = { showId, sink, start, removed: false };
    this.pending.push(stream);
    this.all.add(stream);
    this.heartbeat ??= setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
    if (this.loop) this.wake?.();
    else this.loop = this.run();
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.remove(stream);
    };
  }

  /** Ends every stream and stops (app close): no open stream keeps the server from closing. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.all];
    this.pending = [];
    this.watched.clear();
    this.all.clear();
    this.stopIfIdle();
    for (const stream of all) stream.sink.end();
    this.wake?.();
    await this.loop;
  }

  private remove(stream: Stream): void {
    if (this.closed) return; // close() let go of every stream
    stream.removed = true;
    const index = this.pending.indexOf(stream);
    if (index >= 0) this.pending.splice(index, 1);
    const show = this.watched.get(stream.showId);
    if (show && (show.streams.delete(stream) || show.joining.delete(stream))) {
      if (show.streams.size === 0 && show.joining.size === 0) this.watched.delete(stream.showId);
    }
    this.all.delete(stream);
    this.stopIfIdle();
  }

  private stopIfIdle(): void {
    if (this.all.size > 0) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    // A stream opened later starts from the state then: no backlog to catch up.
    this.cursor = null;
    this.wake?.();
  }

  private beat(): void {
    for (const stream of this.all) stream.sink.write(': heartbeat\n\n');
  }

  /** One pass at a time: ticks every intervalMs, and new streams' snapshots in between. */
  private async run(): Promise<void> {
    let nextTick = Date.now() + this.options.intervalMs;
    while (this.all.size > 0 && !this.closed) {
      const now = Date.now();
      try {
        if (now >= nextTick) {
          nextTick = now + this.options.intervalMs;
          await this.tick();
          continue;
        }
        if (this.pending.length > 0) {
          await this.welcome(this.takePending(), new Map(), this.cursor);
          continue;
        }
      } catch (error) {
        // The database is away: the cursor has not moved, so nothing is lost; try again next tick.
        this.options.logger.warn({ err: error }, 'live availability: reading the outbox failed');
        nextTick = Date.now() + this.options.intervalMs;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, nextTick - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.loop = null;
    // A stream subscribed while the loop was ending.
    if (this.all.size > 0 && !this.closed) this.loop = this.run();
  }

  private takePending(): Stream[] {
    const pending = this.pending;
    this.pending = [];
    return pending;
  }

  /** Reads the changes since the cursor and sends each changed show its update; welcomes new streams too. */
  private async tick(): Promise<void> {
    const pending = this.takePending();
    const changed = new Map<string, ShowChanges>();
    let cursor = this.cursor;
    try {
      if (cursor && this.watched.size > 0) {
        for (let page = 0; page < MAX_PAGES; page++) {
          const read = await this.options.outbox.changesAfter(cursor, [...this.watched.keys()], PAGE);
          collect(read.rows, changed);
          cursor = read.next;
          if (read.rows.length < PAGE) break;
        }
      }
    } catch (error) {
      this.pending.unshift(...pending);
      throw error;
    }
    await this.welcome(pending, changed, cursor);
  }

  /**
   * Reads the availability of the shows that changed (and of new streams' shows), with their
   * changed seats, and writes it: updates to the streams already open, snapshots to the new.
   */
  private async welcome(
    pending: Stream[],
    changed: Map<string, ShowChanges>,
    cursor: OutboxPosition | null,
  ): Promise<void> {
    if (pending.length === 0 && changed.size === 0) {
      if (this.all.size > 0) this.cursor = cursor;
      return;
    }
    try {
      const sentAt = await this.send(pending, changed, cursor);
      // The cursor moves only once the changes before it were sent: a failed pass is read again.
      if (this.all.size > 0) this.cursor = sentAt;
    } catch (error) {
      // Not sent: the new streams wait for the next pass.
      this.pending.unshift(...pending.filter((stream) => !stream.removed));
      throw error;
    }
  }

  /** Sends the updates and snapshots; returns the position they were sent at. */
  private async send(
    pending: Stream[],
    changed: Map<string, ShowChanges>,
    cursor: OutboxPosition | null,
  ): Promise<OutboxPosition> {
    const { availability, plans, outbox } = this.options;
    // Resuming streams of seated shows: the seats changed since their Last-Event-ID, per
    // show and position (after a restart, a show's clients resume from the same few).
    const replays = new Map<
      string,
      { showId: string; from: OutboxPosition; changes?: ShowChanges; next?: OutboxPosition; reset: boolean }
    >();
    for (const stream of pending) {
      if (stream.start === null || stream.start === 'invalid') continue;
      const key = `${stream.showId} ${positionText(stream.start)}`;
      if (!replays.has(key)) replays.set(key, { showId: stream.showId, from: stream.start, reset: false });
    }
    const seatedOf = new Map<string, Awaited<ReturnType<SeatPlans['get']>>>();
    const showIds = [...new Set([...changed.keys(), ...pending.map((stream) => stream.showId)])];
    for (const showId of showIds) seatedOf.set(showId, await plans.get(showId));
    let oldest: OutboxPosition | null | undefined;
    if ([...replays.values()].some((replay) => seatedOf.get(replay.showId))) oldest = await availability.oldest();
    for (const replay of replays.values()) {
      if (!seatedOf.get(replay.showId) || oldest === undefined) continue; // general admission: the snapshot is all there is
      // Events it missed may have been purged: a reset snapshot instead, without reading.
      replay.reset = oldest !== null && before(replay.from, oldest);
      if (replay.reset) continue;
      let read;
      try {
        read = await outbox.seatChangesAfter(replay.from, replay.showId, MAX_REPLAY);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'live availability: a resume could not be read; sent a reset');
        replay.reset = true;
        continue;
      }
      // Too many of its show's changes, or the map changed since.
      replay.reset = read.rows.length >= MAX_REPLAY || read.rows.some((row) => row.type === 'show.updated');
      if (!replay.reset) {
        replay.changes = collect(read.rows, new Map()).get(replay.showId);
        replay.next = read.next;
      }
    }

    // The seats to read: by their number in the map as it is now (a seat's id never changes).
    const seatsOf = new Map<string, Set<string>>();
    const wanted = (showId: string, changes: ShowChanges | undefined) => {
      if (!changes || changes.seatIds.size === 0 || !seatedOf.get(showId)) return;
      const ids = seatsOf.get(showId) ?? new Set<string>();
      for (const id of changes.seatIds) ids.add(id);
      seatsOf.set(showId, ids);
    };
    for (const [showId, changes] of changed) wanted(showId, changes);
    for (const replay of replays.values()) wanted(replay.showId, replay.changes);
    const asked = { showIds: [] as string[], seatNos: [] as number[] };
    const idOf = new Map<string, Map<number, string>>();
    for (const [showId, ids] of seatsOf) {
      const plan = seatedOf.get(showId)!;
      const byNo = new Map<number, string>();
      for (const id of ids) {
        const seatNo = plan.seatNo(id);
        if (seatNo === undefined) continue; // removed from the map since: a reset follows
        byNo.set(seatNo, id);
        asked.showIds.push(showId);
        asked.seatNos.push(seatNo);
      }
      idOf.set(showId, byNo);
    }
    const read = await availability.read(showIds, asked);
    const rows = new Map(read.shows.map((row) => [row.id, row]));
    // The first stream's snapshot starts the cursor: every change after it is after the cursor.
    const sentAt = cursor ?? read.horizon;
    const id = positionText(sentAt);

    for (const [showId, changes] of changed) {
      const watched = this.watched.get(showId);
      const row = rows.get(showId);
      if (!watched || !row) continue;
      const plan = seatedOf.get(showId);
      // The map was changed (PATCH): the seats must be read again whole.
      const reset = plan ? this.mapChanged(showId, watched, plan.mapVersion, row.seat_map_version) : false;
      const frames =
        (reset ? '' : seatsFrame(showId, changes.seatIds, row, idOf.get(showId))) +
        availabilityFrame(id, update(row, { changedAt: changes.changedAt, reset }));
      for (const stream of watched.streams) {
        // A client that went away (or was dropped as too slow) and whose 'close' was missed.
        if (stream.sink.closed) this.remove(stream);
        else stream.sink.write(frames);
      }
      for (const [stream, joinedAt] of watched.joining) {
        if (before(changes.last, joinedAt)) {
          // Every change read is in the stream's snapshot; once the cursor is past it, none can be.
          if (before(sentAt, joinedAt)) continue;
        } else {
          stream.sink.write(frames);
        }
        watched.joining.delete(stream);
        watched.streams.add(stream);
      }
    }

    for (const stream of pending) {
      if (stream.removed || this.closed) continue;
      if (stream.sink.closed) {
        this.remove(stream);
        continue;
      }
      const row = rows.get(stream.showId);
      if (!row) {
        // No such show (any more): nothing will ever change.
        stream.sink.end();
        continue;
      }
      const plan = seatedOf.get(stream.showId);
      const replay =
        stream.start === null || stream.start === 'invalid'
          ? undefined
          : replays.get(`${stream.showId} ${positionText(stream.start)}`);
      if (plan && plan.mapVersion !== row.seat_map_version) plans.forget(stream.showId);
      const reset =
        stream.start === 'invalid' ||
        // Not a position this database has given out yet.
        (stream.start !== null && before(read.horizon, stream.start)) ||
        (replay?.reset ?? false) ||
        (plan ? plan.mapVersion !== row.seat_map_version : false);
      const seats =
        !reset && replay?.changes
          ? seatsFrame(stream.showId, replay.changes.seatIds, row, idOf.get(stream.showId))
          : '';
      // Its id is the snapshot's own position (for a resumed seated stream, the end of the replay,
      // whose seats it was sent): resuming from it misses nothing, and the changes before it are
      // not sent to it again.
      const joinedAt = !reset && replay?.next && before(replay.next, read.horizon) ? replay.next : read.horizon;
      stream.sink.write(seats + availabilityFrame(positionText(joinedAt), update(row, { reset })));
      let watched = this.watched.get(stream.showId);
      if (!watched) {
        watched = { streams: new Set(), joining: new Map(), mapVersion: row.seat_map_version };
        this.watched.set(stream.showId, watched);
      }
      watched.joining.set(stream, joinedAt);
    }
    return sentAt;
  }

  /** Whether the show's seat map moved since its streams were last told; forgets a stale plan. */
  private mapChanged(showId: string, watched: Watched, planVersion: number, readVersion: number): boolean {
    if (planVersion !== readVersion) this.options.plans.forget(showId);
    const changed = watched.mapVersion !== readVersion || planVersion !== readVersion;
    watched.mapVersion = readVersion;
    return changed;
  }
}

/** Folds changes into per-show sets of changed seat ids and the time of the newest change. */
function collect(rows: OutboxChange[], into: Map<string, ShowChanges>): Map<string, ShowChanges> {
  for (const row of rows) {
    // An extension changes no seat and no count.
    if (row.type === 'booking.extended') continue;
    let show = into.get(row.show_id);
    if (!show) {
      show = { seatIds: new Set(), changedAt: row.occurred_at, last: { tx: row.tx, seq: row.seq } };
      into.set(row.show_id, show);
    }
    show.last = { tx: row.tx, seq: row.seq }; // rows come in commit order
    if (row.occurred_at > show.changedAt) show.changedAt = row.occurred_at;
    for (const id of row.seat_ids ?? []) show.seatIds.add(id);
  }
  return into;
}

function update(row: AvailabilityRow, { changedAt, reset }: { changedAt?: Date; reset: boolean }): AvailabilityUpdate {
  return {
    show_id: row.id,
    available_seats: row.available_seats,
    ...(row.available_by_category ? { available_by_category: row.available_by_category } : {}),
    sold_out: row.available_seats <= 0,
    ...(changedAt ? { changed_at: changedAt.toISOString() } : {}),
    ...(reset ? { reset: true as const } : {}),
  };
}

function availabilityFrame(id: string, data: AvailabilityUpdate): string {
  return `id: ${id}\nevent: availability\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The `seats` event for the changed seats whose state was read; '' when there are none. */
function seatsFrame(
  showId: string,
  seatIds: Set<string>,
  row: AvailabilityRow,
  idOf: Map<number, string> | undefined,
): string {
  if (seatIds.size === 0 || !row.seats || !idOf) return '';
  const seats: SeatsUpdate['seats'] = {};
  for (const [seatNo, id] of idOf) {
    if (!seatIds.has(id)) continue;
    const state = row.seats[String(seatNo)];
    if (state) seats[id] = state as SeatsUpdate['seats'][string];
  }
  if (Object.keys(seats).length === 0) return '';
  return `event: seats\ndata: ${JSON.stringify({ show_id: showId, seats } satisfies SeatsUpdate)}\n\n`;
}
