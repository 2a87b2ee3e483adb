import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { AppError } from '../errors.js';
import type { Booking, BookingRepository, NewHold } from '../repositories/booking.repository.js';
import type { ShowRepository } from '../repositories/show.repository.js';
import { hashSecret, newTokens } from '../secrets.js';
import { allocateSeats } from './booking-rules.js';

export interface GrantedHold {
  booking: Booking;
  /** The secret that confirms or cancels this hold; returned once, stored only as a hash. */
  holdToken: string;
}

/** Told once per committed group, after commit, so the group's holds get an expiry job. */
export type GroupCommitted = (showId: string, createdAt: Date, expiresAt: Date) => void;

interface WaitingHold {
  seats: number;
  resolve(hold: GrantedHold): void;
  reject(error: unknown): void;
}

export interface HoldEngineOptions {
  pool: Pool;
  shows: ShowRepository;
  bookings: BookingRepository;
  holdTtlSeconds: number;
  maxGroupSize: number;
  onGroupCommitted: GroupCommitted;
  logger: Logger;
}

interface GroupOutcome {
  /** One answer per request of the group, in order. */
  answers: ({ hold: GrantedHold; error?: undefined } | { hold?: undefined; error: AppError })[];
  committed?: { createdAt: Date; expiresAt: Date };
}

/**
 * Group commit for seat holds. Holds for one show are serialized by the show's row lock
 * anyway, so instead of one transaction per request queueing on that lock, the requests
 * that arrive for a show while its previous transaction runs wait here and then share the
 * next one: lock the row once, reclaim overdue holds if seats are short, grant first come
 * first served, insert all granted holds in one statement, commit, answer everyone.
 *
 * There is no timer: a lone request goes straight to the database, and a group is only
 * what piled up meanwhile (at most maxGroupSize). Shows never wait for each other. With
 * several API processes the row lock still serializes their groups, so correctness never
 * depends on this in-process queue.
 */
export class HoldEngine {
  private readonly lanes = new Map<string, WaitingHold[]>();

  constructor(private readonly options: HoldEngineOptions) {}

  hold(showId: string, seats: number): Promise<GrantedHold> {
    return new Promise<GrantedHold>((resolve, reject) => {
      const waiting = this.lanes.get(showId);
      if (waiting) {
        waiting.push({ seats, resolve, reject });
        return;
      }
      const lane: WaitingHold[] = [{ seats, resolve, reject }];
      this.lanes.set(showId, lane);
      void this.drain(showId, lane);
    });
  }

  private async drain(showId: string, lane: WaitingHold[]): Promise<void> {
    while (lane.length > 0) {
      await this.commitGroup(showId, lane.splice(0, this.options.maxGroupSize));
    }
    this.lanes.delete(showId);
  }

  /** Never throws: every waiting request is answered, with a hold or an error. */
  private async commitGroup(showId: string, group: WaitingHold[]): Promise<void> {
    const { pool, shows, bookings, holdTtlSeconds, logger } = this.options;
    let outcome: GroupOutcome;
    try {
      outcome = await withTransaction(pool, async (client): Promise<GroupOutcome> => {
        const refuseAll = (error: AppError) => ({ answers: group.map(() => ({ error })) });
        const inventory = await shows.lockInventory(client, showId);
        if (!inventory) return refuseAll(new AppError('show_not_found'));
        if (inventory.started)
          return refuseAll(new AppError('show_started', 'Seats can no longer be held for this show'));
        let free = inventory.totalSeats - inventory.heldSeats - inventory.confirmedSeats;
        const wanted = group.reduce((sum, request) => sum + request.seats, 0);
        if (free < wanted) free += await bookings.expireOverdue(client, showId);

        const { granted, left } = allocateSeats(
          group.map((request) => request.seats),
          free,
        );
        // Tokens only for the granted requests: in a sell-out most of a group is refused.
        const tokens = newTokens(granted.filter(Boolean).length);
        const holds: (NewHold & { token: string })[] = [];
        const slots = group.map((request, index) => {
          if (!granted[index]) return -1;
          const token = tokens[holds.length]!;
          holds.push({ id: randomUUID(), seats: request.seats, token, tokenHash: hashSecret(token) });
          return holds.length - 1;
        });
        const soldOut = () => new AppError('sold_out', `Only ${left} seat(s) are available`, { available_seats: left });
        if (holds.length === 0) return refuseAll(soldOut());

        const inserted = await bookings.insertHolds(client, showId, holds, holdTtlSeconds);
        const answers = slots.map((slot) => {
          const hold = holds[slot];
          if (!hold) return { error: soldOut() };
          const booking: Booking = {
            id: hold.id,
            show_id: showId,
            seats: hold.seats,
            status: 'PENDING',
            created_at: inserted.createdAt,
            expires_at: inserted.expiresAt,
            updated_at: inserted.createdAt,
          };
          return { hold: { booking, holdToken: hold.token } };
        });
        return { answers, committed: inserted };
      });
    } catch (error) {
      // A database failure fails this group only; the next group gets a fresh connection.
      logger.error({ err: error, showId, groupSize: group.length }, 'hold group failed');
      const unavailable = new AppError('service_unavailable', 'The hold could not be recorded; retry shortly');
      for (const request of group) request.reject(unavailable);
      return;
    }
    group.forEach((request, index) => {
      const answer = outcome.answers[index]!;
      if (answer.hold) request.resolve(answer.hold);
      else request.reject(answer.error);
    });
    const { committed } = outcome;
    if (committed) this.options.onGroupCommitted(showId, committed.createdAt, committed.expiresAt);
  }
}
