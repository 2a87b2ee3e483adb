import type { Booking } from '../../domain/booking.js';
import type { CustomerAction } from '../../domain/booking-lifecycle.js';
import type { BestAvailable } from '../../domain/seat-allocator.js';
import type { TicketAsk } from '../../domain/ticket-types.js';
import { AppError } from '../../errors.js';
import type { GateOutcome } from '../../repositories/booking.repository.js';
import type { Recorder } from '../idempotency.service.js';

/** What the requests of a show's lane are, and how their answers are made: shared by the lane's parts. */

export interface GrantedHold {
  booking: Booking;
  /** The secret that confirms, extends, cancels or reads this hold; returned once, stored only as a hash. */
  holdToken: string;
}

/** What a hold on a seated show asks for: these seats (by id), or the best available. */
export type SeatAsk = { seatIds: string[] } | { best: BestAvailable };

/** What a hold asks for. */
export interface HoldSpec {
  seats: number;
  /** The tickets by type; absent: `seats` of the show's first type. */
  tickets?: TicketAsk[] | undefined;
  /** On a seated show. */
  seating?: SeatAsk | undefined;
  /** The storefront's customer (per-customer limits). */
  customerRef?: string | undefined;
}

export type Outcome<T> = { value: T; error?: undefined } | { value?: undefined; error: AppError };

export interface Queued<T> {
  recorder: Recorder<T> | undefined;
  isGone: (() => boolean) | undefined;
  /** Date.now() after which it no longer waits. */
  deadline: number;
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Decided in the group's statement or transaction; answered once that commits. */
  outcome?: Outcome<T>;
  /**
   * The outcome's statement has committed (a statement on its own): it is the answer whatever the
   * rest of the group comes to, so that an answer always matches what committed.
   */
  committed?: boolean;
}

export interface HoldRequest extends Queued<GrantedHold>, HoldSpec {
  kind: 'hold';
}

export interface ActionRequest extends Queued<Booking> {
  kind: CustomerAction;
  bookingId: string;
}

export type LaneRequest = HoldRequest | ActionRequest;

/** What a group did besides answering, acted on once it committed. */
export interface GroupTally {
  /** Lapsed holds it turned EXPIRED, by path. */
  reclaim: number;
  late_action: number;
  /** Holds it extended: their new deadlines need expiry jobs, from the group's instant. */
  extended?: { at: Date; deadlines: Date[] };
}

export const unavailable = () =>
  new AppError('service_unavailable', 'The request could not be completed; retry shortly');

/** What a sale's refusal says beside its outcome. */
export interface GateResult {
  allowed: number | null;
  salesStart: Date | null;
  ticketType: string | null;
}

/** The answer to a sale refused by its gate (core.hold_gate) or by its customer's limit (core.decide_holds). */
export function gateError(outcome: GateOutcome, result: GateResult): AppError {
  switch (outcome) {
    case 'show_started':
      return new AppError('show_started', 'Seats can no longer be held for this show');
    case 'taken_over':
      return new AppError('idempotency_in_progress', 'The Idempotency-Key was taken over by a retry');
    case 'show_not_found':
      return new AppError('show_not_found');
    case 'sales_not_open':
      return new AppError('sales_not_open', `Sales open at ${result.salesStart?.toISOString()}`, {
        sales_start: result.salesStart?.toISOString(),
      });
    case 'sales_closed':
      return new AppError('sales_closed', 'Sales for this show have closed');
    case 'type_not_on_sale':
      return new AppError('type_not_on_sale', `"${result.ticketType}" is not on sale now`, {
        ticket_type: result.ticketType,
      });
    case 'customer_ref_required':
      return new AppError('validation_failed', 'This show limits seats per customer: send customer_ref', {
        errors: [{ path: 'body/customer_ref', message: 'is required on this show' }],
      });
    case 'customer_limit':
      return new AppError(
        'customer_limit_reached',
        `This customer may hold or buy ${result.allowed ?? 0} more seat(s) for this show`,
        { seats_allowed: result.allowed ?? 0 },
      );
  }
}

/** A booking as answered to the request that holds it: with the customer it named. */
export function withCustomer<T extends object>(
  booking: T,
  customerRef: string | undefined,
): T & { customer_ref?: string } {
  return customerRef === undefined ? booking : { ...booking, customer_ref: customerRef };
}

/** Answers a request with its outcome. */
export function deliver<T>(request: Queued<T>): void {
  const { outcome } = request;
  if (!outcome) request.reject(new Error('a request of the group was never decided'));
  else if (outcome.error) request.reject(outcome.error);
  else request.resolve(outcome.value);
}

/** Every request of `requests` decided by a statement that has committed: their answers stand. */
export function markCommitted(requests: readonly Queued<unknown>[]): void {
  for (const request of requests) if (request.outcome) request.committed = true;
}
