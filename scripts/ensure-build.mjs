#!/usr/bin/env node
/**
 * Builds dist/ (the API and the web app) only when its inputs changed since the last build,
 * and safely when several processes start at once (`npm start`, `npm run worker`, … run it
 * first). No dependencies: it runs before anything else is known to work.
 *
 *   node scripts/ensure-build.mjs           build if dist/ is missing or out of date, else exit at once
 *   node scripts/ensure-build.mjs --force   build regardless (`npm run build`)
 *
 * Up to date means: dist/.build-stamp holds the fingerprint (SHA-256 over the paths and
 * contents) of every build input as it was when that build started.
 *
 * A build runs under an exclusive lock, the file dist.lock (created with O_EXCL, holding the
 * builder's pid, host and start time; its mtime is renewed every few seconds while it builds).
 * Others wait, polling, and look again once they hold it: usually the first one built
 * meanwhile. A lock whose process is gone (a dead pid on this host, or no renewal for a minute)
 * is taken over. The build writes into a fresh dist.staging-* beside dist/, which then replaces
 * dist/ by two renames (dist/ → dist.old-*, staging → dist/): a process serving from dist/
 * never sees a half-written file, and two builds never write the same files.
 *
 * For tests: ENSURE_BUILD_COMMAND (a shell command that writes the build to $BUILD_OUT_DIR)
 * and ENSURE_BUILD_INPUTS (comma-separated paths) replace the real build and its inputs.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
const LOCK = path.join(ROOT, 'dist.lock');
/** What the build reads, besides node_modules (which package-lock.json stands for). */
const INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'vite.config.ts',
  'src',
  'web',
  'client/package.json',
  'client/src',
  'scripts/ensure-build.mjs',
];
const POLL_MS = 200;
const RENEW_MS = 5_000;
/** A lock not renewed for this long is abandoned (its holder hangs, or its pid was reused). */
const ABANDONED_MS = 60_000;

const say = (line) => console.error(`ensure-build: ${line}`);

/** SHA-256 over each input file's path and contents, in a fixed order. */
function fingerprint(inputs) {
  const hash = createHash('sha256').update('ensure-build 1\0');
  const visit = (rel) => {
    const full = path.join(ROOT, rel);
    let stat;
    try {
      stat = fs.statSync(full);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
      hash.update(`${rel}\0missing\0`);
      return;
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) {
        if (name !== 'node_modules' && name !== '.DS_Store') visit(path.posix.join(rel, name));
      }
    } else if (stat.isFile()) {
      const content = fs.readFileSync(full);
      hash.update(`${rel}\0${content.length}\0`).update(content);
    }
  };
  for (const input of inputs) visit(input);
  return hash.digest('hex');
}

function builtFingerprint() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8')).fingerprint ?? '';
  } catch {
    return null;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The lock as it is now: its text, owner and mtime; undefined when there is none. */
function readLock() {
  try {
    const raw = fs.readFileSync(LOCK, 'utf8');
    const { mtimeMs } = fs.statSync(LOCK);
    let owner = {};
    try {
      owner = JSON.parse(raw);
    } catch {
      // Being written this very moment: its mtime is recent, so it counts as held.
    }
    return { raw, mtimeMs, pid: owner.pid, host: owner.host };
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

function abandoned(lock) {
  if (Date.now() - lock.mtimeMs > ABANDONED_MS) return true;
  return lock.host === os.hostname() && Number.isInteger(lock.pid) && !pidAlive(lock.pid);
}

/**
 * Removes an abandoned lock, once: under a second lock (dist.lock.takeover), the lock is
 * removed only if it is still the one found abandoned, so a waiter that looked at it earlier
 * cannot remove the lock another waiter took meanwhile.
 */
function takeOver(seen) {
  const guard = `${LOCK}.takeover`;
  let fd;
  try {
    fd = fs.openSync(guard, 'wx');
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    // Someone else is at it; a guard left by a process that died right there goes after 10 s.
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > 10_000) fs.rmSync(guard, { force: true });
    } catch {
      // Gone already.
    }
    return;
  }
  try {
    const now = readLock();
    if (now && now.raw === seen.raw && now.mtimeMs === seen.mtimeMs) {
      fs.rmSync(LOCK, { force: true });
      say(`took over the lock of a build that is gone (pid ${seen.pid ?? '?'})`);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(guard, { force: true });
  }
}

/** Waits for the lock and takes it; returns the text that marks it as ours. */
async function lock() {
  const mine = `${JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() })}\n`;
  let waiting = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, mine, { flag: 'wx' });
      return mine;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const held = readLock();
    if (!held) continue;
    if (abandoned(held)) {
      takeOver(held);
      continue;
    }
    if (!waiting) {
      say(`waiting for another build of dist/ (pid ${held.pid ?? '?'})…`);
      waiting = true;
    }
    await sleep(POLL_MS);
  }
}

function unlock(mine) {
  try {
    if (fs.readFileSync(LOCK, 'utf8') === mine) fs.rmSync(LOCK, { force: true });
  } catch {
    // Already gone (taken over as abandoned).
  }
}

/**
 * Staging and old copies left by builders that were killed (before and after a build: the
 * compilers a killed builder started may still write into its staging copy for a while).
 */
function removeLeftovers() {
  for (const name of fs.readdirSync(ROOT)) {
    const match = /^dist\.(?:staging|old)-(\d+)-/.exec(name);
    if (match && Number(match[1]) !== process.pid && !pidAlive(Number(match[1]))) {
      try {
        fs.rmSync(path.join(ROOT, name), { recursive: true, force: true });
      } catch {
        // Still being written: the next build removes it.
      }
    }
  }
}

const children = new Set();

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
    children.add(child);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`build failed: ${[command, ...args].join(' ')} exited with ${signal ?? code}`));
    });
  });
}

/** `tsc -p tsconfig.build.json && vite build`, into outDir instead of dist/. */
async function build(outDir, quiet) {
  if (process.env.ENSURE_BUILD_COMMAND) {
    await run(process.env.ENSURE_BUILD_COMMAND, [], { shell: true, env: { ...process.env, BUILD_OUT_DIR: outDir } });
    return;
  }
  const bin = (file) => path.join(ROOT, 'node_modules', file);
  await run(process.execPath, [
    bin('typescript/bin/tsc'),
    ...['-p', 'tsconfig.build.json', '--outDir', outDir, '--tsBuildInfoFile', path.join(outDir, '.tsbuildinfo')],
  ]);
  // The config's emptyOutDir and the precompress plugin (options.dir) follow --outDir.
  await run(process.execPath, [
    bin('vite/bin/vite.js'),
    ...['build', '--outDir', path.join(outDir, 'web'), '--emptyOutDir'],
    ...(quiet ? ['--logLevel', 'warn'] : []),
  ]);
}

/** Puts the finished build at dist/: two renames, the old one then removed. */
function swapIn(staging, suffix) {
  for (let attempt = 1; ; attempt++) {
    const old = path.join(ROOT, `dist.old-${suffix}-${attempt}`);
    try {
      fs.renameSync(DIST, old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      fs.renameSync(staging, DIST);
      return;
    } catch (error) {
      // A dist/ appeared in between (only if another builder broke in): move it away too.
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || attempt >= 5) throw error;
    } finally {
      fs.rmSync(old, { recursive: true, force: true });
    }
  }
}

async function main() {
  const force = process.argv.includes('--force');
  const inputs =
    process.env.ENSURE_BUILD_INPUTS?.split(',')
      .map((input) => input.trim())
      .filter(Boolean) ?? INPUTS;
  if (!force && builtFingerprint() === fingerprint(inputs)) return;

  const mine = await lock();
  const renew = setInterval(() => {
    const now = new Date();
    fs.utimes(LOCK, now, now, () => {});
  }, RENEW_MS);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(ROOT, `dist.staging-${suffix}`);
  const cleanUp = () => {
    clearInterval(renew);
    unlock(mine);
    try {
      fs.rmSync(staging, { recursive: true, force: true });
    } catch {
      // A compiler still writing into it (interrupted): the next build removes it.
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      for (const child of children) child.kill(signal);
      cleanUp();
      process.exit(128 + os.constants.signals[signal]);
    });
  }
  try {
    // Look again: whoever held the lock before probably built this very tree.
    const wanted = fingerprint(inputs);
    const built = builtFingerprint();
    if (!force && built === wanted) return;
    if (!force) say(`building dist/ (${built === null ? 'no build yet' : 'sources changed'})…`);
    removeLeftovers();
    await build(staging, !force);
    fs.writeFileSync(
      path.join(staging, '.build-stamp'),
      `${JSON.stringify({ fingerprint: wanted, built_at: new Date().toISOString() })}\n`,
    );
    swapIn(staging, suffix);
    removeLeftovers();
  } finally {
    cleanUp();
  }
}

main().catch((error) => {
  say(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
