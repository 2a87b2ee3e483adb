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
 * `npx vitest run` runs every project in one run, by their groupOrder (vitest.config.ts); the
 * `npm run test:*` scripts run one group each (docs/testing.md). Extra arguments go to every vitest
 * run (e.g. `npm test -- --reporter=verbose`).
 */
import { spawn } from 'node:child_process';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
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
    child.on('error', (error) => {
      process.stdout.write(`${prefix}could not run vitest: ${error.message}\n`);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ name, code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 });
    });
  });
}

// Stopping npm test stops every run it started, and waits for them to clean up (their databases,
// processes and Redis keys). A terminal's Ctrl-C reaches them already (one foreground group); a
// signal sent to this process alone is passed on as SIGTERM. Past 30 s, they are killed.
let stopping = false;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const passOn = setTimeout(() => children.forEach((child) => child.kill('SIGTERM')), 2_000);
    const kill = setTimeout(() => children.forEach((child) => child.kill('SIGKILL')), 30_000);
    const closed = [...children].map((child) => new Promise((resolve) => child.once('close', resolve)));
    void Promise.all(closed).then(() => {
      clearTimeout(passOn);
      clearTimeout(kill);
      process.exit(code);
    });
  });
}

const results = [];
const started = Date.now();
for (const phase of phases) {
  const settled = await Promise.all(phase.map((projects) => run(projects)));
  results.push(...settled);
  if (stopping || settled.some((result) => result.code !== 0)) break;
}
process.stdout.write('\n');
for (const { name, code, seconds } of results) {
  process.stdout.write(`${code === 0 ? 'passed' : 'FAILED'}  ${name}  ${seconds.toFixed(0)} s\n`);
}
const failed = results.some((result) => result.code !== 0);
process.stdout.write(`${failed ? 'FAILED' : 'passed'}: npm test in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.exit(failed ? 1 : 0);
