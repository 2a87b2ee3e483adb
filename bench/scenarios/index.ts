import type { Scenario } from '../lib/scenario.js';
import { hot } from './hot.js';
import { many } from './many.js';
import { mix } from './mix.js';
import { read } from './read.js';
import { seated } from './seated.js';
import { seatmap } from './seatmap.js';
import { sellout } from './sellout.js';
import { streams } from './streams.js';
import { typed } from './typed.js';
import { wave } from './wave.js';

/** Every scenario, in the order they run (seated and typed compare themselves with hot, seatmap with seated: they come after). */
export const scenarios: Scenario[] = [hot, typed, sellout, many, read, mix, seated, seatmap, wave, streams];
