import type { ShowListItem } from '@seat-hold/client';
import { formatDateTime } from '../../format.js';

/** Where the show's sales stand now, as a pill: the shows list and the on-sale view both show it. */
export function SalesState({ show }: { show: Pick<ShowListItem, 'sales_start' | 'sales_end' | 'start_time'> }) {
  const now = Date.now();
  if (Date.parse(show.start_time) <= now) return <span class="pill pill-muted">Started</span>;
  if (show.sales_start && Date.parse(show.sales_start) > now)
    return <span class="pill pill-muted">Opens {formatDateTime(show.sales_start)}</span>;
  if (show.sales_end && Date.parse(show.sales_end) <= now) return <span class="pill pill-muted">Closed</span>;
  return <span class="pill pill-ok">On sale</span>;
}
