import { createSeatHoldClient } from '@seat-hold/client';

/** The API on this page's own origin (the CSP allows no other), without the admin key. */
export const api = createSeatHoldClient({ baseUrl: location.origin });

export type AdminApi = ReturnType<typeof createSeatHoldClient>;

/** The API with the admin key as Bearer token on every call. */
export function adminApi(adminKey: string): AdminApi {
  return createSeatHoldClient({ baseUrl: location.origin, adminKey });
}
