import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { AppError } from '../errors.js';
import type { Booking, BookingRepository, NewHold } from '../repositories/booking.repository.js';
import type { ShowRepository } from '../repositories/show.repository.js';
import { hashSecret, newTokens } from '../secrets.js';
import { allocateSeats } from './booking-rules.js';
import type { IdempotencyService, Recorder } from './idempotency.service.js';

export interface GrantedHold {
  booking: Booking;
  /** The secret that confirms or cancels this hold; returned once, stored only as a hash. */
  holdToken: string;
}

/** Told once per committed group, after commit, so the group's holds get an expiry job. */
export type GroupCommitted = (showId: string, createdAt: Date, expiresAt: Date) => void;

interface WaitingHold {
  seats: number;
  recorder: Recorder<GrantedHold> | undefined;
  resolve(hold: GrantedHold): void;
  reject(error: unknown): void;
}

export interface HoldEngineOptions {
  pool: Pool;
  shows: ShowRepository;
  bookings: BookingRepository;
  idempotency: IdempotencyService;
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

  /** Holds the seats; with a recorder, the answer is recorded in the hold's own transaction. */
  hold(showId: string, seats: number, recorder?: Recorder<GrantedHold>): Promise<GrantedHold> {
    return new Promise<GrantedHold>((resolve, reject) => {
      const waiting = this.lanes.get(showId);
      if (waiting) {
        waiting.push({ seats, recorder, resolve, reject });
        return;
      }
      const lane: WaitingHold[] = [{ seats, recorder, resolve, reject }];
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
    const { pool, shows, bookings, idempotency, holdTtlSeconds, logger } = this.options;
    let outcome: GroupOutcome;
    try {
      outcome = await withTransaction(pool, async (client): Promise<GroupOutcome> => {
        const refuseAll = (error: AppError) => ({ answers: group.map(() => ({ error })) });
        const inventory = await shows.lockInventory(client, showId);
        if (!inventory) return refuseAll(new AppError('show_not_found'));
        if (inventory.started)
          return refuseAll(new AppError('show_started', 'Seats can no longer be held for this show'));

        // A request whose Idempotency-Key a retry took over meanwhile fails alone, holding nothing.
        const claims = group.flatMap((request) => (request.recorder ? [request.recorder.claim] : []));
        const owned = claims.length > 0 ? await idempotency.lockOwned(client, claims) : new Set();
        const keyTakenOver = new Set(group.filter((request) => request.recorder && !owned.has(request.recorder.claim)));
        const contenders = group.filter((request) => !keyTakenOver.has(request));

        let free = inventory.totalSeats - inventory.heldSeats - inventory.confirmedSeats;
        const wanted = contenders.reduce((sum, request) => sum + request.seats, 0);
        if (free < wanted) free += await bookings.expireOverdue(client, showId);
        const { granted, left } = allocateSeats(
          contenders.map((request) => request.seats),
          free,
        );
        const winners = contenders.filter((_, index) => granted[index]);
        // Tokens only for the granted requests: in a sell-out most of a group is refused.
        const tokens = newTokens(winners.length);
        const holds = new Map<WaitingHold, NewHold & { token: string }>(
          winners.map((request, index) => {
            const token = tokens[index]!;
            return [request, { id: randomUUID(), seats: request.seats, token, tokenHash: hashSecret(token) }];
          }),
        );
        // Errors are built only when someone is refused: capturing a stack costs every group otherwise.
        let soldOut: AppError | undefined;
        const refusal = (request: WaitingHold): { error: AppError } => ({
          error: keyTakenOver.has(request)
            ? new AppError('idempotency_in_progress', 'The Idempotency-Key was taken over by a retry')
            : (soldOut ??= new AppError('sold_out', `Only ${left} seat(s) are available`, { available_seats: left })),
        });
        if (holds.size === 0) return { answers: group.map(refusal) };

        const inserted = await bookings.insertHolds(client, showId, [...holds.values()], holdTtlSeconds);
        const answers = group.map((request): GroupOutcome['answers'][number] => {
          const hold = holds.get(request);
          if (!hold) return refusal(request);
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
        // Each granted keyed request's answer commits with its hold (their keys are locked above).
        await idempotency.recordAllWithin(
          client,
          group.flatMap((request, index) => {
            const hold = answers[index]!.hold;
            return request.recorder && hold ? [{ recorder: request.recorder, result: hold }] : [];
          }),
        );
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
