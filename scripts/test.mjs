#!/usr/bin/env node
/**
 * `npm test`: every test, in two phases, each as parallel as is safe on a 2-core machine.
 *
 *   1. unit + sql + api: one vitest run, files in parallel (each file its own database);
 *   2. faults | load | browser: three vitest runs side by side. Each runs one file at a time and
 *      mostly waits on the processes it starts (API processes, workers, redis-server, nginx,
 *      Chromium); they share nothing but PostgreSQL (each file its own database) and Redis (each
 *      its own key prefix, or a redis-server of its own).
 *
 * `npx vitest run` runs the same projects one after the other; `npm run test:<project>` one of them.
 * Extra arguments go to every vitest run (e.g. `npm test -- --reporter=verbose`).
 */
import { spawn } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const extra = process.argv.slice(2);
// A file filter (`npm test -- test/unit/x.test.ts`) matches files of one project only: the others
// then have none, which is not a failure.
if (extra.length > 0) extra.push('--passWithNoTests');
const children = new Set();
// vitest itself rather than npx, so that a signal sent to it reaches the test runner.
const vitest = fileURLToPath(new URL('../node_modules/.bin/vitest', import.meta.url));
const phases = [[['unit', 'sql', 'api']], [['faults'], ['load'], ['browser']]];

/** Runs vitest on these projects, each output line prefixed with their names; resolves with its exit code. */
function run(projects) {
  const name = projects.join('+');
  const args = ['run', ...projects.flatMap((project) => ['--project', project]), ...extra];
  const started = Date.now();
  const child = spawn(vitest, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  children.add(child);
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
    stream.on('end', () => rest && process.stdout.write(`${prefix}${rest}\n`));
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ name, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 });
    });
  });
}

// Stopping npm test stops every run it started (a terminal's Ctrl-C reaches them anyway; a
// SIGTERM sent to this process alone would not).
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(code);
  });
}

const results = [];
const started = Date.now();
for (const phase of phases) {
  const settled = await Promise.all(phase.map((projects) => run(projects)));
  results.push(...settled);
  if (settled.some((result) => result.code !== 0)) break;
}
process.stdout.write('\n');
for (const { name, code, seconds } of results) {
  process.stdout.write(`${code === 0 ? 'passed' : 'FAILED'}  ${name}  ${seconds.toFixed(0)} s\n`);
}
const failed = results.some((result) => result.code !== 0);
process.stdout.write(`${failed ? 'FAILED' : 'passed'}: npm test in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.exit(failed ? 1 : 0);
