import type { SeatState } from '@seat-hold/client';
import { memo } from 'preact/compat';
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { JSX, TargetedKeyboardEvent, TargetedMouseEvent } from 'preact';
import {
  parseSeatId,
  seatId,
  STATE_WORDS,
  type RowModel,
  type SeatMapModel,
  type SectionModel,
  type SeatRef,
} from './model.js';

/** SVG units: one seat cell, the square drawn in it, and the row labels' column. */
const CELL = 14;
const SEAT = 11;
const INSET = (CELL - SEAT) / 2;
const LABEL = 34;
const ZOOMS = ['fit', 1, 1.5, 2] as const;
const FIT_MAX = 1.75;
type Zoom = (typeof ZOOMS)[number];

export interface SeatMapProps {
  model: SeatMapModel;
  /** Seats chosen on this page, not held yet. */
  selected: ReadonlySet<string>;
  /** Seats this buyer holds or bought. */
  mine?: ReadonlySet<string>;
  /** Called on click, Enter or Space on a seat that may be chosen; without it the map only shows. */
  onToggle?: (seat: SeatRef, state: SeatState) => void;
  /** Which seats may be chosen (default: free ones). */
  canChoose?: (state: SeatState) => boolean;
  /** What the map is, for screen readers. */
  label: string;
}

interface Focus {
  section: number;
  row: number;
  seat: number;
}

const freeOnly = (state: SeatState) => state === 'F';

/**
 * A show's seat map, drawn as SVG: each row a memoized component, so a live update repaints
 * only the rows it touched. Seat states differ by pattern, not colour alone (empty, hatched,
 * solid, crossed). The map is one tab stop: arrow keys move between seats, Enter or Space
 * chooses, and the line under it says which seat has focus and its state.
 */
export function SeatMap({ model, selected, mine, onToggle, canChoose = freeOnly, label }: SeatMapProps) {
  const [zoom, setZoom] = useState<Zoom>('fit');
  const [focus, setFocus] = useState<Focus>();
  const [hovered, setHovered] = useState<string>();
  const wrapper = useRef<HTMLDivElement>(null);
  const focusLine = useId();
  const firstRender = useRef<number | undefined>(undefined);

  const widest = useMemo(() => Math.max(...model.sections.map(sectionWidth)), [model.sections]);
  const categoryIndex = useMemo(
    () => new Map(model.categories.map((category, index) => [category, index % 6])),
    [model.categories],
  );

  // The time from navigation to the first painted map, for the budget (docs: 20,000 seats ≤ 1 s).
  useLayoutEffect(() => {
    if (firstRender.current !== undefined) return;
    requestAnimationFrame(() => {
      firstRender.current = performance.now();
      wrapper.current?.setAttribute('data-first-render-ms', String(Math.round(firstRender.current)));
    });
  }, []);

  const focusedId = focus === undefined ? undefined : seatAt(model, focus);
  useEffect(() => {
    if (focusedId === undefined) return;
    wrapper.current
      ?.querySelector(`[data-seat="${CSS.escape(focusedId)}"]`)
      ?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [focusedId]);

  const described = focusedId ?? hovered;

  function choose(id: string) {
    const seat = parseSeatId(id);
    const state = stateOf(model, id);
    if (seat === undefined || state === undefined || onToggle === undefined) return;
    if (canChoose(state) || selected.has(id)) onToggle(seat, state);
  }

  function onClick(event: TargetedMouseEvent<HTMLDivElement>) {
    const id = (event.target as Element).getAttribute('data-seat');
    if (id === null) return;
    const found = locate(model, id);
    if (found !== undefined) setFocus(found);
    choose(id);
  }

  function onKeyDown(event: TargetedKeyboardEvent<HTMLDivElement>) {
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
    };
    const move = moves[event.key];
    if (move !== undefined) {
      event.preventDefault();
      setFocus(step(model, focus, move[0], move[1]));
    } else if ((event.key === 'Enter' || event.key === ' ') && focusedId !== undefined) {
      event.preventDefault();
      choose(focusedId);
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      const at = focus ?? { section: 0, row: 0, seat: 1 };
      const row = model.sections[at.section]?.rows[at.row];
      if (row !== undefined) setFocus({ ...at, seat: event.key === 'Home' ? 1 : row.seats });
    }
  }

  return (
    <div class="seat-map">
      <SeatPatterns />
      <div class="seat-map-tools">
        <Legend
          model={model}
          categoryIndex={categoryIndex}
          choosing={onToggle !== undefined}
          mine={mine !== undefined}
        />
        <div class="zoom" role="group" aria-label="Zoom">
          {ZOOMS.map((level) => (
            <button type="button" key={String(level)} aria-pressed={zoom === level} onClick={() => setZoom(level)}>
              {level === 'fit' ? 'Fit' : `${level * 100}%`}
            </button>
          ))}
        </div>
      </div>
      <div
        ref={wrapper}
        class={`seat-map-canvas ${onToggle ? 'choosable' : ''}`}
        tabIndex={0}
        role="application"
        aria-roledescription="seat map"
        aria-label={`${label}. ${onToggle ? 'Arrow keys move between seats; Enter or Space chooses one.' : ''}`}
        aria-describedby={focusLine}
        data-seats={model.seatCount}
        onClick={onClick}
        onKeyDown={onKeyDown}
        onFocus={() => setFocus((current) => current ?? firstFocus(model))}
        onMouseOver={(event) => setHovered((event.target as Element).getAttribute('data-seat') ?? undefined)}
        onMouseLeave={() => setHovered(undefined)}
      >
        {model.sections.map((section, index) => (
          <Section
            key={section.name}
            section={section}
            zoom={zoom}
            widest={widest}
            categoryIndex={categoryIndex}
            marks={marksIn(section, selected, mine)}
            focused={focus?.section === index ? focus : undefined}
          />
        ))}
      </div>
      <p id={focusLine} class="seat-map-focus" aria-live="polite">
        {described === undefined ? '\u00a0' : describeSeat(model, described, selected, mine)}
      </p>
    </div>
  );
}

/** The fills that tell held and blocked seats apart without colour: hatched and crossed. */
function SeatPatterns() {
  return (
    <svg class="seat-patterns" width="0" height="0" aria-hidden="true" focusable="false">
      <defs>
        <pattern id="seat-hatch" patternUnits="userSpaceOnUse" width="3.5" height="3.5">
          <rect width="3.5" height="3.5" class="hatch-ground" />
          <path d="M-1 1 L1 -1 M0 3.5 L3.5 0 M2.5 4.5 L4.5 2.5" class="hatch-line" />
        </pattern>
        {/* Sized to each seat's own box, so every blocked seat shows one whole cross. */}
        <pattern
          id="seat-cross"
          patternUnits="objectBoundingBox"
          patternContentUnits="objectBoundingBox"
          width="1"
          height="1"
        >
          <rect width="1" height="1" class="cross-ground" />
          <path d="M0.2 0.2 L0.8 0.8 M0.8 0.2 L0.2 0.8" class="cross-line" />
        </pattern>
      </defs>
    </svg>
  );
}

interface LegendProps {
  model: SeatMapModel;
  categoryIndex: Map<string, number>;
  /** Seats can be chosen here: show what a chosen seat looks like. */
  choosing: boolean;
  /** The map marks the viewer's own seats. */
  mine: boolean;
}

function Legend({ model, categoryIndex, choosing, mine }: LegendProps) {
  const states: (readonly [string, string])[] = [
    ['F', 'Free'],
    ['H', 'Held'],
    ['S', 'Sold'],
    ['B', 'Blocked'],
    ...(choosing ? ([['selected', 'Chosen']] as const) : []),
    ...(mine ? ([['mine', 'Yours']] as const) : []),
  ];
  return (
    <ul class="legend">
      {states.map(([state, words]) => (
        <li key={state}>
          <svg viewBox={`0 0 ${CELL} ${CELL}`} width="16" height="16" aria-hidden="true">
            <SeatShape x={0} y={0} state={state} />
          </svg>
          {words}
        </li>
      ))}
      {model.categories.length > 1 &&
        model.categories.map((category) => (
          <li key={`category-${category}`} class={`cat-${categoryIndex.get(category) ?? 0}`}>
            <svg viewBox={`0 0 ${CELL} ${CELL}`} width="16" height="16" aria-hidden="true">
              <rect x={INSET} y={INSET} width={SEAT} height={SEAT} rx={2} class="seat seat-F" />
            </svg>
            {category}
          </li>
        ))}
    </ul>
  );
}

/** The legend's sample of a state, drawn as on the map. */
function SeatShape({ x, y, state }: { x: number; y: number; state: string }) {
  if (state === 'selected' || state === 'mine') return <Mark x={x} y={y} kind={state} />;
  return <rect x={x + INSET} y={y + INSET} width={SEAT} height={SEAT} rx={2} class={`seat seat-${state}`} />;
}

function Mark({ x, y, kind }: { x: number; y: number; kind: 'selected' | 'mine' }) {
  return (
    <g class={`mark mark-${kind}`}>
      <rect x={x + INSET} y={y + INSET} width={SEAT} height={SEAT} rx={2} />
      {kind === 'selected' ? (
        <circle cx={x + CELL / 2} cy={y + CELL / 2} r={2.5} />
      ) : (
        <path d={`M${x + 4} ${y + 7.5} l2.5 2.5 l4 -5`} />
      )}
    </g>
  );
}

interface SectionProps {
  section: SectionModel;
  zoom: Zoom;
  /** Width of the widest section: every section is drawn at the same scale. */
  widest: number;
  categoryIndex: Map<string, number>;
  /** The selected and own seats in this section, as "kind:row:seat" joined: cheap to compare. */
  marks: string;
  focused: Focus | undefined;
}

const Section = memo(function Section({ section, zoom, widest, categoryIndex, marks, focused }: SectionProps) {
  const width = sectionWidth(section);
  const height = section.rows.length * CELL + INSET * 2;
  // Fit: the widest section spans the frame, but a seat is never drawn above FIT_MAX times its size.
  const size =
    zoom === 'fit'
      ? { style: { width: `${(100 * width) / widest}%`, maxWidth: `${width * FIT_MAX}px` } }
      : { width: width * zoom, height: height * zoom };
  return (
    <figure class="section">
      <figcaption>{section.name}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} {...size} aria-hidden="true">
        {section.rows.map((row, index) => (
          <Row key={row.key} row={row} y={index * CELL + INSET} category={categoryIndex.get(row.category) ?? 0} />
        ))}
        {marks !== '' &&
          marks.split(' ').map((mark) => {
            const [kind, row, seat] = mark.split(':') as ['selected' | 'mine', string, string];
            return <Mark key={mark} kind={kind} x={LABEL + (Number(seat) - 1) * CELL} y={Number(row) * CELL + INSET} />;
          })}
        {focused !== undefined && (
          <rect
            class="focus-ring"
            x={LABEL + (focused.seat - 1) * CELL}
            y={focused.row * CELL + INSET}
            width={CELL}
            height={CELL}
            rx={3}
          />
        )}
      </svg>
    </figure>
  );
});

const Row = memo(function Row({ row, y, category }: { row: RowModel; y: number; category: number }) {
  const seats: JSX.Element[] = [];
  for (let number = 1; number <= row.seats; number++) {
    seats.push(
      <rect
        x={LABEL + (number - 1) * CELL + INSET}
        y={y + INSET}
        width={SEAT}
        height={SEAT}
        rx={2}
        class={`seat seat-${row.status[number - 1] ?? 'F'}`}
        data-seat={seatId(row, number)}
      />,
    );
  }
  return (
    <g class={`cat-${category}`}>
      <text x={LABEL - 6} y={y + CELL - 3} class="row-label">
        {row.label}
      </text>
      {seats}
    </g>
  );
});

function sectionWidth(section: SectionModel): number {
  return LABEL + section.width * CELL + INSET;
}

function marksIn(section: SectionModel, selected: ReadonlySet<string>, mine: ReadonlySet<string> | undefined): string {
  const marks: string[] = [];
  const add = (ids: ReadonlySet<string> | undefined, kind: string) => {
    for (const id of ids ?? []) {
      const seat = parseSeatId(id);
      if (seat === undefined || seat.section !== section.name) continue;
      const row = section.rows.findIndex((candidate) => candidate.label === seat.row);
      if (row >= 0) marks.push(`${kind}:${row}:${seat.number}`);
    }
  };
  add(mine, 'mine');
  add(selected, 'selected');
  return marks.join(' ');
}

function seatAt(model: SeatMapModel, focus: Focus): string | undefined {
  const row = model.sections[focus.section]?.rows[focus.row];
  return row === undefined ? undefined : seatId(row, focus.seat);
}

function locate(model: SeatMapModel, id: string): Focus | undefined {
  const seat = parseSeatId(id);
  if (seat === undefined) return undefined;
  const section = model.sections.findIndex((candidate) => candidate.name === seat.section);
  const row = model.sections[section]?.rows.findIndex((candidate) => candidate.label === seat.row) ?? -1;
  return row < 0 ? undefined : { section, row, seat: seat.number };
}

function stateOf(model: SeatMapModel, id: string): SeatState | undefined {
  const at = locate(model, id);
  if (at === undefined) return undefined;
  return model.sections[at.section]?.rows[at.row]?.status[at.seat - 1] as SeatState | undefined;
}

function firstFocus(model: SeatMapModel): Focus | undefined {
  return model.sections[0]?.rows[0] === undefined ? undefined : { section: 0, row: 0, seat: 1 };
}

/** The seat one step away; up and down keep the seat number (clamped), crossing sections. */
function step(model: SeatMapModel, from: Focus | undefined, rows: number, seats: number): Focus | undefined {
  if (from === undefined) return firstFocus(model);
  let { section, row } = from;
  const current = model.sections[section]?.rows[row];
  if (current === undefined) return firstFocus(model);
  if (seats !== 0) return { section, row, seat: Math.min(current.seats, Math.max(1, from.seat + seats)) };
  row += rows;
  if (row < 0) {
    if (section === 0) return from;
    section -= 1;
    row = (model.sections[section]?.rows.length ?? 1) - 1;
  } else if (row >= (model.sections[section]?.rows.length ?? 0)) {
    if (section === model.sections.length - 1) return from;
    section += 1;
    row = 0;
  }
  const target = model.sections[section]?.rows[row];
  return target === undefined ? from : { section, row, seat: Math.min(target.seats, from.seat) };
}

function describeSeat(
  model: SeatMapModel,
  id: string,
  selected: ReadonlySet<string>,
  mine: ReadonlySet<string> | undefined,
): string {
  const seat = parseSeatId(id);
  const at = locate(model, id);
  if (seat === undefined || at === undefined) return '\u00a0';
  const row = model.sections[at.section]?.rows[at.row];
  const state = row?.status[seat.number - 1] as SeatState | undefined;
  const status = mine?.has(id)
    ? 'yours'
    : selected.has(id)
      ? 'chosen'
      : state === undefined
        ? 'unknown'
        : STATE_WORDS[state];
  return `Section ${seat.section}, row ${seat.row}, seat ${seat.number} (${row?.category ?? ''}): ${status}`;
}
