import { useCallback, useEffect, useState } from 'preact/hooks';
import { useLatestRequest } from '../../useLatestRequest.js';
import { useAdmin } from './session.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | undefined;
}

export interface Paged<T> {
  items: T[] | undefined;
  hasMore: boolean;
  loading: boolean;
  error: string | undefined;
  loadMore: () => void;
  /** Read the first page again (after a change, or with new filters). */
  reload: () => void;
}

/**
 * A keyset-paged list: the first page on mount and whenever `read` changes (new filters),
 * then "Load more" appends the next. An answer to an older read is dropped.
 */
export function usePaged<T>(read: (cursor: string | undefined) => Promise<Page<T>>): Paged<T> {
  const { fail } = useAdmin();
  const [items, setItems] = useState<T[]>();
  const [cursor, setCursor] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const start = useLatestRequest();

  const fetchPage = useCallback(
    async (from: string | undefined) => {
      const isLatest = start();
      setLoading(true);
      setError(undefined);
      try {
        const page = await read(from);
        if (!isLatest()) return;
        setItems((current) => (from === undefined ? page.items : [...(current ?? []), ...page.items]));
        setCursor(page.nextCursor);
      } catch (problem) {
        if (!isLatest()) return;
        setError(fail(problem));
        // A failed fresh read (new filters) must not leave the old filters' rows looking like its answer.
        if (from === undefined) setItems(undefined);
      } finally {
        if (isLatest()) setLoading(false);
      }
    },
    [read, fail, start],
  );

  useEffect(() => {
    void fetchPage(undefined);
  }, [fetchPage]);

  // Stable while the read is: a caller may re-read on a timer without restarting it every render.
  const reload = useCallback(() => void fetchPage(undefined), [fetchPage]);
  const loadMore = useCallback(() => {
    if (cursor !== undefined && !loading) void fetchPage(cursor);
  }, [cursor, loading, fetchPage]);

  return { items, hasMore: cursor !== undefined, loading, error, loadMore, reload };
}
