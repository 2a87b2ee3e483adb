import { SeatHoldProblem } from '@seat-hold/client';
import { useCallback, useMemo, useRef } from 'preact/hooks';

export interface IdempotentCalls {
  /**
   * Runs `call` with an Idempotency-Key for `body`. Sent again with the same body after an
   * outcome that is unknown (no answer, a 5xx, still running), it is the same key, so the
   * API replays what the first attempt did instead of doing it twice; after an answer (a
   * success or a refusal) the next call gets a new key, as the API refuses a key sent again
   * with different details.
   */
  send<T>(body: unknown, call: (idempotencyKey: string) => Promise<T>): Promise<T>;
}

/** One pending key per form or button. */
export function useIdempotentCalls(): IdempotentCalls {
  const pending = useRef<{ body: string; key: string } | undefined>(undefined);

  const send = useCallback(async <T>(body: unknown, call: (idempotencyKey: string) => Promise<T>): Promise<T> => {
    const text = JSON.stringify(body);
    if (pending.current?.body !== text) pending.current = { body: text, key: crypto.randomUUID() };
    const attempt = pending.current;
    try {
      const result = await call(attempt.key);
      if (pending.current === attempt) pending.current = undefined;
      return result;
    } catch (error) {
      if (!outcomeUnknown(error) && pending.current === attempt) pending.current = undefined;
      throw error;
    }
  }, []);

  return useMemo(() => ({ send }), [send]);
}

/** The request may have been carried out, or still is: only the same key is safe to send again. */
function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof SeatHoldProblem)) return true;
  return error.status >= 500 || error.code === 'idempotency_in_progress';
}
