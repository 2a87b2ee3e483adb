import type { SeatBlock } from '@seat-hold/client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { formatDateTime, plural } from '../../format.js';
import { Outcome } from '../shared/Outcome.js';
import { useAction, useAdmin } from '../shared/session.js';

export interface Blocks {
  blocks: SeatBlock[] | undefined;
  error: string | undefined;
  reload: () => Promise<void>;
}

export function useBlocks(showId: string): Blocks {
  const { api, fail } = useAdmin();
  const [blocks, setBlocks] = useState<SeatBlock[]>();
  const [error, setError] = useState<string>();
  const reload = useCallback(async () => {
    try {
      setBlocks(await api.listBlocks(showId));
      setError(undefined);
    } catch (problem) {
      setError(fail(problem));
    }
  }, [api, fail, showId]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { blocks, error, reload };
}

/** Seat ids listed per block up to this many, then counted. */
const LISTED = 30;

export function BlocksPanel({ showId, blocks, onChanged }: { showId: string; blocks: Blocks; onChanged: () => void }) {
  const { api } = useAdmin();
  const action = useAction();
  const [releasing, setReleasing] = useState<string>();
  const [done, setDone] = useState<string>();

  async function release(block: SeatBlock) {
    setReleasing(block.id);
    const ok = await action.run(async () => {
      await api.releaseBlock(showId, block.id);
      return true;
    });
    setReleasing(undefined);
    if (ok) setDone(`Released ${plural(block.seats, 'seat')}: back on sale.`);
    // Released or not (someone else may have released it first), the list is read again.
    onChanged();
  }

  const list = blocks.blocks;
  return (
    <section class="panel" id="blocks" aria-labelledby="blocks-title">
      <h2 id="blocks-title">Blocked house seats</h2>
      {blocks.error && (
        <p class="alert" role="alert">
          {blocks.error}
        </p>
      )}
      {list === undefined ? (
        !blocks.error && <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="muted" data-list="blocks" data-count-blocks="0">
          No seats are blocked.
        </p>
      ) : (
        <div class="table-scroll">
          <table data-list="blocks" data-count-blocks={list.length}>
            <caption class="visually-hidden">Blocked seats, with a button to release each block</caption>
            <thead>
              <tr>
                <th scope="col">Seats</th>
                <th scope="col">Note</th>
                <th scope="col">Blocked</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((block) => (
                <tr key={block.id} data-block={block.id}>
                  <td>
                    <strong>{plural(block.seats, 'seat')}</strong>
                    {block.seat_ids && block.seat_ids.length > 0 && (
                      <span class="seat-list block-seats">
                        {' '}
                        {block.seat_ids.slice(0, LISTED).join(', ')}
                        {block.seat_ids.length > LISTED ? '…' : ''}
                      </span>
                    )}
                  </td>
                  <td>{block.note ?? <span class="muted">–</span>}</td>
                  <td>{formatDateTime(block.created_at)}</td>
                  <td>
                    <button
                      type="button"
                      class="secondary compact"
                      disabled={action.busy}
                      aria-label={`Release ${plural(block.seats, 'seat')}${block.note ? ` (${block.note})` : ''}`}
                      onClick={() => void release(block)}
                      data-action="release"
                    >
                      {releasing === block.id ? 'Releasing…' : 'Release'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Outcome error={action.error} done={done} />
    </section>
  );
}
