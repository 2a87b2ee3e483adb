import { useCallback, useEffect, useRef } from 'preact/hooks';

/** True while the request it was handed out for is still the newest: its answer may be used. */
export type IsLatest = () => boolean;

/**
 * The stale-answer guard. A component that asks again before an answer came (the next page of
 * a list, the map read again, another show's details, the next poll) uses only the newest
 * request's answer: an older one may arrive later and must not overwrite it, and nothing is
 * used once the component has unmounted.
 *
 * Returns `start`, stable for the component's life: call it when a request begins (or an
 * effect run that makes requests, polls included), and check the `isLatest` it hands back
 * after every `await` or in every `then`, before using the answer or starting what follows
 * from it. It turns false as soon as `start` is called again or the component unmounts.
 *
 * @example
 * const start = useLatestRequest();
 * useEffect(() => {
 *   const isLatest = start();
 *   api.getShow(id).then((show) => isLatest() && setShow(show));
 * }, [id, start]);
 */
export function useLatestRequest(): () => IsLatest {
  const newest = useRef(0);

  useEffect(
    () => () => {
      newest.current += 1;
    },
    [],
  );

  return useCallback(() => {
    const mine = ++newest.current;
    return () => mine === newest.current;
  }, []);
}
