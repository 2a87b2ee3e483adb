import type { Scenario } from '../lib/scenario.js';
import { hot } from './hot.js';
import { many } from './many.js';
import { mix } from './mix.js';
import { read } from './read.js';
import { sellout } from './sellout.js';
import { wave } from './wave.js';

/** Every scenario, in the order they run. */
export const scenarios: Scenario[] = [hot, sellout, many, read, mix, wave];
