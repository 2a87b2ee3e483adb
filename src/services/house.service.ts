import { withTransaction, type Pool, type PoolClient } from '../adapters/postgres/pool.js';
import { newBookingId, type Booking, type NewComp } from '../domain/booking.js';
import type { SeatPlan } from '../domain/seat-map.js';
import type { NewBlock, SeatBlock } from '../domain/show.js';
import { AppError } from '../errors.js';
import type { BookingRepository } from '../repositories/booking.repository.js';
import type { HouseRepository } from '../repositories/house.repository.js';
import type { ShowLock, ShowRepository } from '../repositories/show.repository.js';
import { hashSecret, newTokens } from '../secrets.js';
import type { SeatPlans } from './seat-plans.service.js';
import type { IdempotencyService, Recorder } from './idempotency.service.js';
import type { ShowVersions } from './show-versions.service.js';

/**
 * House seats and comps (admin). Each is one transaction under the show's lock, like every
 * change to a show's seats: it passes the house's gate (core.show_gate: not once the show has
 * started), its seat ids are numbered on the map of the locked show (SeatPlans.underLock), and the
 * show's lapsed holds are expired first, so a seat whose hold lapsed counts as free. A seated
 * show's seat_version moves, so the API processes that keep its seat states catch up before they
 * choose again.
 */
export class HouseService {
  constructor(
    private readonly pool: Pool,
    private readonly shows: ShowRepository,
    private readonly bookings: BookingRepository,
    private readonly house: HouseRepository,
    private readonly plans: SeatPlans,
    private readonly idempotency: IdempotencyService,
    private readonly showVersions: ShowVersions,
  ) {}

  async block(showId: string, request: NewBlock, recorder?: Recorder<SeatBlock>): Promise<SeatBlock> {
    return this.takingSeats(showId, recorder, async (client, show, plan) => {
      const note = request.note ?? null;
      if (plan) {
        if (request.seat_ids === undefined || request.seats !== undefined) {
          throw new AppError('validation_failed', 'A seated show blocks seats by seat_ids', {
            errors: [{ path: 'body/seat_ids', message: 'is required on a seated show (and seats is not taken)' }],
          });
        }
        const seatNos = plan.seatNos(request.seat_ids);
        await this.refuseTaken(client, showId, plan, seatNos, ['F']);
        return this.house.block(client, showId, show.now, {
          seats: seatNos.length,
          seatNos,
          seatIds: request.seat_ids,
          note,
        });
      }
      if (request.seats === undefined || request.seat_ids !== undefined) {
        throw new AppError('validation_failed', 'A general-admission show blocks a number of seats', {
          errors: [
            { path: 'body/seats', message: 'is required on a general-admission show (and seat_ids is not taken)' },
          ],
        });
      }
      await this.refuseShort(client, showId, request.seats);
      return this.house.block(client, showId, show.now, { seats: request.seats, seatNos: null, seatIds: null, note });
    });
  }

  async blocks(showId: string): Promise<SeatBlock[]> {
    if ((await this.plans.get(showId)) === undefined) throw new AppError('show_not_found');
    return withTransaction(this.pool, (client) => this.house.activeBlocks(client, showId));
  }

  async release(showId: string, blockId: string): Promise<void> {
    await this.locked(showId, undefined, async (client, show) => {
      if (!(await this.house.release(client, showId, blockId, show.now))) throw new AppError('block_not_found');
    });
  }

  /** A complimentary booking, CONFIRMED at once, on free seats or on seats the house kept back. */
  async comp(showId: string, request: NewComp, recorder?: Recorder<Booking>): Promise<Booking> {
    const id = newBookingId(showId);
    // Nobody holds a comp's token: the admin key acts on it.
    const tokenHash = hashSecret(newTokens(1)[0]!);
    const customerRef = request.customer_ref ?? null;
    return this.takingSeats(showId, recorder, async (client, show, plan) => {
      if (plan) {
        if (request.seat_ids === undefined || request.seats !== undefined || request.block_id !== undefined) {
          throw new AppError('validation_failed', 'A seated show comps seats by seat_ids', {
            errors: [
              { path: 'body/seat_ids', message: 'is required on a seated show (seats and block_id are not taken)' },
            ],
          });
        }
        const seatNos = plan.seatNos(request.seat_ids).sort((a, b) => a - b);
        const states = await this.refuseTaken(client, showId, plan, seatNos, ['F', 'B']);
        return this.house.comp(client, showId, show.now, {
          id,
          tokenHash,
          seats: seatNos.length,
          seatNos,
          seatIds: seatNos.map((seatNo) => plan.seatId(seatNo)),
          fromBlocks: states.filter((seat) => seat.state === 'B').length,
          fromBlock: null,
          customerRef,
        });
      }
      if (request.seats === undefined || request.seat_ids !== undefined) {
        throw new AppError('validation_failed', 'A general-admission show comps a number of seats', {
          errors: [
            { path: 'body/seats', message: 'is required on a general-admission show (and seat_ids is not taken)' },
          ],
        });
      }
      const seats = request.seats;
      if (request.block_id !== undefined) {
        const block = await this.house.activeBlock(client, showId, request.block_id);
        if (!block) throw new AppError('block_not_found');
        if (block.seats < seats) {
          throw new AppError('sold_out', `The block keeps ${block.seats} seat(s)`, { available_seats: block.seats });
        }
      } else {
        await this.refuseShort(client, showId, seats);
      }
      return this.house.comp(client, showId, show.now, {
        id,
        tokenHash,
        seats,
        seatNos: null,
        seatIds: null,
        fromBlocks: request.block_id === undefined ? 0 : seats,
        fromBlock: request.block_id ?? null,
        customerRef,
      });
    });
  }

  /**
   * Runs `work`, which takes seats, under the show's lock: the house's gate passed, with the plan
   * of the locked show's map (null: general admission).
   */
  private takingSeats<T>(
    showId: string,
    recorder: Recorder<T> | undefined,
    work: (client: PoolClient, show: ShowLock, plan: SeatPlan | null) => Promise<T>,
  ): Promise<T> {
    return this.locked(showId, recorder, async (client, show) => {
      if (show.houseGate) throw new AppError('show_started', 'The show has started: its seats can no longer be taken');
      return work(client, show, await this.plans.underLock(client, showId, show.mapVersion));
    });
  }

  /** Runs `work` under the show's lock; with a recorder, its answer commits with it (Idempotency-Key). */
  private async locked<T>(
    showId: string,
    recorder: Recorder<T> | undefined,
    work: (client: PoolClient, show: ShowLock) => Promise<T>,
  ): Promise<T> {
    try {
      const result = await withTransaction(this.pool, async (client) => {
        const show = await this.shows.lockInventory(client, showId);
        if (!show) throw new AppError('show_not_found');
        // A seat whose hold lapsed is free: those first.
        await this.bookings.expireOverdue(client, showId, show.now);
        const done = await work(client, show);
        if (recorder) await this.idempotency.recordWithin(client, recorder, done);
        return done;
      });
      if (recorder) recorder.claim.recorded = true; // committed with the change
      return result;
    } finally {
      this.showVersions.changed(showId);
    }
  }

  /** 409 seats_taken naming the seats not in one of the `allowed` states. */
  private async refuseTaken(
    client: PoolClient,
    showId: string,
    plan: SeatPlan,
    seatNos: number[],
    allowed: ('F' | 'B')[],
  ) {
    const states = await this.house.seatStates(client, showId, seatNos);
    const taken = states.filter((seat) => !(allowed as string[]).includes(seat.state));
    if (taken.length > 0) {
      const ids = taken.map((seat) => plan.seatId(seat.seatNo));
      throw new AppError('seats_taken', `Held, sold${allowed.includes('B') ? '' : ' or blocked'}: ${ids.join(', ')}`, {
        taken_seat_ids: ids,
      });
    }
    return states;
  }

  private async refuseShort(client: PoolClient, showId: string, seats: number): Promise<void> {
    const free = await this.house.freeSeats(client, showId);
    if (free < seats) throw new AppError('sold_out', `Only ${free} seat(s) are available`, { available_seats: free });
  }
}
