/**
 * How far the server's clock is ahead of this browser's, in ms: a hold's countdown runs to
 * its expires_at on the server's clock, not on a browser clock that may be minutes off.
 */
export interface ServerClock {
  offsetMs: number;
}

/**
 * The offset from an answer stamped with the server's time of the request (a hold's
 * created_at, an extension's updated_at), assuming it was stamped halfway through.
 */
export function clockFromAnswer(serverTime: string, sentAt: number, receivedAt: number): ServerClock {
  return { offsetMs: Date.parse(serverTime) - (sentAt + receivedAt) / 2 };
}

/** Milliseconds left until `deadline` (server time), never below zero. */
export function msUntil(deadline: string, clock: ServerClock, now = Date.now()): number {
  return Math.max(0, Date.parse(deadline) - (now + clock.offsetMs));
}
