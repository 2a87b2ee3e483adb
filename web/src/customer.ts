const KEY = 'seat-hold.customer';

/**
 * This browser's customer_ref: a random id kept in local storage, sent with every hold so
 * that a show's per-customer limit counts this buyer's tickets across visits.
 */
export function customerRef(): string {
  let ref = localStorage.getItem(KEY);
  if (ref === null) {
    ref = `web-${crypto.randomUUID()}`;
    localStorage.setItem(KEY, ref);
  }
  return ref;
}
