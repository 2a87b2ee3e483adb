import { describe, expect, it } from 'vitest';
import { clockFromAnswer, msUntil } from '../../web/src/clock.js';
import { applySeats, countStates, parseSeatId, seatState, toModel } from '../../web/src/seatmap/model.js';

// The web app's seat map model: what the live stream's `seats` events do to the map the
// page read, and which rows they leave as they were (those are not drawn again).
const map = {
  show_id: '0b5e6a43-5f0c-4c11-9d43-3f3c1e0f9a10',
  version: '1',
  sections: [
    {
      name: 'Stalls',
      rows: [
        { label: 'A', category: 'Front', seats: 4, status: 'FFHS' },
        { label: 'B', category: 'Rear', seats: 3, status: 'FFF' },
      ],
    },
    { name: 'Balcony', rows: [{ label: '1', category: 'Balcony', seats: 2, status: 'BF' }] },
  ],
};

describe('seat map model', () => {
  it('reads the API map: sections, widths, categories in order, seat count', () => {
    const model = toModel(map);
    expect(model.sections.map((section) => [section.name, section.width])).toEqual([
      ['Stalls', 4],
      ['Balcony', 2],
    ]);
    expect(model.categories).toEqual(['Front', 'Rear', 'Balcony']);
    expect(model.seatCount).toBe(9);
    expect(countStates(model)).toEqual({ F: 6, H: 1, S: 1, B: 1 });
  });

  it('applies a seats event to the rows it names and keeps every other row and section as it was', () => {
    const model = toModel(map);
    const next = applySeats(model, { 'Stalls-A-1': 'H', 'Stalls-A-3': 'F', 'Stalls-B-3': 'S' });
    expect(next.sections[0]!.rows.map((row) => row.status)).toEqual(['HFFS', 'FFS']);
    expect(next.sections[1]).toBe(model.sections[1]);
    expect(model.sections[0]!.rows[0]!.status).toBe('FFHS');
    expect(seatState(next, 'Stalls-B-3')).toBe('S');
    expect(seatState(next, 'Balcony-1-1')).toBe('B');
  });

  it('ignores seats it does not have, and returns the same model when nothing applies', () => {
    const model = toModel(map);
    expect(
      applySeats(model, { 'Nowhere-A-1': 'S', 'Stalls-A-9': 'S', garbage: 'H' }).sections[0]!.rows[0]!.status,
    ).toBe('FFHS');
    expect(applySeats(model, {})).toBe(model);
    expect(seatState(model, 'Stalls-Z-1')).toBeUndefined();
  });

  it('splits seat ids in three (names never contain "-")', () => {
    expect(parseSeatId('Stalls-A-12')).toEqual({ id: 'Stalls-A-12', section: 'Stalls', row: 'A', number: 12 });
    for (const bad of ['Stalls-A', 'Stalls-A-0', 'Stalls-A-x', 'a-b-c-1']) expect(parseSeatId(bad)).toBeUndefined();
  });
});

describe('hold countdown clock', () => {
  it("counts down on the server's clock, whatever the browser's says", () => {
    // The browser is 90 s behind: the server stamped the hold at 12:00:00.000.
    const serverStamp = Date.parse('2031-05-01T12:00:00.000Z');
    const sent = serverStamp - 90_000 - 50;
    const clock = clockFromAnswer('2031-05-01T12:00:00.000Z', sent, sent + 100);
    expect(clock.offsetMs).toBe(90_000);
    expect(msUntil('2031-05-01T12:02:00.000Z', clock, sent + 100)).toBe(120_000 - 50);
    expect(msUntil('2031-05-01T12:02:00.000Z', clock, sent + 200_000)).toBe(0);
  });
});
