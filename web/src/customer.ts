const KEY = 'seat-hold.customer';

/**
 * This browser's customer_ref: a random id kept in local storage, sent with every hold so
 * that a show's per-customer limit counts this buyer's tickets across visits.
 */
export function customerRef(): string {
  try {
    const kept = localStorage.getItem(KEY);
    if (kept !== null) return kept;
    const ref = newRef();
    localStorage.setItem(KEY, ref);
    return ref;
  } catch {
    // Storage refused (site data blocked): one id for as long as this page lives.
    pageRef ??= newRef();
    return pageRef;
  }
}

let pageRef: string | undefined;

const newRef = () => `web-${crypto.randomUUID()}`;
