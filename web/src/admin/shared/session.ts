import { createContext } from 'preact';
import { useCallback, useContext, useRef, useState } from 'preact/hooks';
import type { AdminApi } from '../../api.js';
import { describeError, problemCode } from '../../problems.js';

/** Session storage only: the key dies with the tab and never reaches a URL or a log. */
const STORAGE_KEY = 'seat-hold.admin-key';

export function storedKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    // Storage can be refused (privacy settings): the console then asks on each visit.
    return undefined;
  }
}

export function storeKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // See storedKey: without storage the key lives in memory for this page only.
  }
}

export interface AdminSession {
  api: AdminApi;
  /** Forget the key; `reason` is shown on the sign-in form. */
  signOut: (reason?: string) => void;
  /** An error in words; a 401 also ends the session, since the key no longer works. */
  fail: (error: unknown) => string;
}

export const AdminContext = createContext<AdminSession | undefined>(undefined);

export function useAdmin(): AdminSession {
  const session = useContext(AdminContext);
  if (session === undefined) throw new Error('useAdmin outside the signed-in admin console');
  return session;
}

export interface Action {
  busy: boolean;
  error: string | undefined;
  /** Runs one action at a time: a second click while busy does nothing. Undefined on failure. */
  run: <T>(action: () => Promise<T>) => Promise<T | undefined>;
  setError: (error: string | undefined) => void;
}

/** Busy and error state around API calls made by a button or form. */
export function useAction(): Action {
  const { fail } = useAdmin();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // State updates are not seen until the next render: a double click must not slip in between.
  const running = useRef(false);

  const run = useCallback(
    async <T>(action: () => Promise<T>): Promise<T | undefined> => {
      if (running.current) return undefined;
      running.current = true;
      setBusy(true);
      setError(undefined);
      try {
        return await action();
      } catch (problem) {
        setError(fail(problem));
        return undefined;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
    [fail],
  );

  return { busy, error, run, setError };
}

/** Something typed that cannot be sent: its message is already the words to show. */
export class InputProblem extends Error {}

/** Words for an error, ending the session when the key was refused. */
export function failWith(signOut: (reason?: string) => void) {
  return (error: unknown): string => {
    if (error instanceof InputProblem) return error.message;
    const words = describeError(error);
    if (problemCode(error) === 'unauthorized') signOut(words);
    return words;
  };
}
