import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * scripts/ensure-build.mjs (`npm start`, `npm run worker`, … run it first) in a tiny fake
 * project: its build is a script that logs each run to build.log, writes dist/out.txt from
 * src/input.txt and takes a moment (longer while a file named hold exists), so that runs
 * started together overlap.
 */
const FAKE_BUILD = `
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const out = process.env.BUILD_OUT_DIR;
const input = readFileSync('src/input.txt', 'utf8');
appendFileSync('build.log', process.pid + '\\n');
if (input.includes('syntax error')) process.exit(2);
mkdirSync(out + '/web', { recursive: true });
writeFileSync(out + '/web/first.txt', input);
await sleep(500);
while (existsSync('hold')) await sleep(20);
writeFileSync(out + '/out.txt', input);
`;

let project: string;

beforeEach(() => {
  project = mkdtempSync(path.join(tmpdir(), 'ensure-build-'));
  mkdirSync(path.join(project, 'scripts'));
  mkdirSync(path.join(project, 'src'));
  cpSync('scripts/ensure-build.mjs', path.join(project, 'scripts/ensure-build.mjs'));
  writeFileSync(path.join(project, 'fake-build.mjs'), FAKE_BUILD);
  writeFileSync(path.join(project, 'src/input.txt'), 'version 1');
});

afterEach(() => {
  rmSync(project, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const env = {
  ...process.env,
  ENSURE_BUILD_COMMAND: `"${process.execPath}" fake-build.mjs`,
  ENSURE_BUILD_INPUTS: 'src,fake-build.mjs',
};

/** What `npm start` does: the pre-script, then the process reading what was built. */
function start(): { exited: Promise<Run>; stderr: () => string } {
  const child = spawn('sh', ['-c', `"${process.execPath}" scripts/ensure-build.mjs && cat dist/out.txt`], {
    cwd: project,
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { exited, stderr: () => stderr };
}

const startMany = (count: number): Promise<Run[]> => Promise.all(Array.from({ length: count }, () => start().exited));

function builds(): number {
  const log = path.join(project, 'build.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** Nothing but dist/ is left beside the project's files: no lock, no staging or old copy. */
function leftovers(): string[] {
  return readdirSync(project).filter((name) => name.startsWith('dist.'));
}

const countOf = (runs: Run[], pattern: RegExp): number => runs.filter((run) => pattern.test(run.stderr)).length;

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(condition()).toBe(true);
}

describe('scripts/ensure-build.mjs', () => {
  it('builds once for four processes started at once on a tree never built; each then finds the whole build', async () => {
    const runs = await startMany(4);
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0]);
    expect(runs.map((run) => run.stdout)).toEqual(Array(4).fill('version 1'));
    expect(builds()).toBe(1);
    expect(countOf(runs, /building dist\/ \(no build yet\)/)).toBe(1);
    expect(readFileSync(path.join(project, 'dist/web/first.txt'), 'utf8')).toBe('version 1');
    expect(leftovers()).toEqual([]);
  });

  it('does not build, and prints nothing, when the build is up to date', async () => {
    await startMany(1);
    const runs = await startMany(3);
    expect(runs).toEqual(Array(3).fill({ code: 0, stdout: 'version 1', stderr: '' }));
    expect(builds()).toBe(1);
  });

  it('builds exactly once after an input changed, without touching dist/ until the build is complete', async () => {
    await startMany(1);
    writeFileSync(path.join(project, 'src/input.txt'), 'version 2');
    writeFileSync(path.join(project, 'hold'), '');
    const pending = startMany(2);
    // While the build runs (it logged its start and wrote a file), dist/ is still the previous build.
    await until(() => builds() === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readFileSync(path.join(project, 'dist/out.txt'), 'utf8')).toBe('version 1');
    expect(readFileSync(path.join(project, 'dist/web/first.txt'), 'utf8')).toBe('version 1');
    rmSync(path.join(project, 'hold'));
    const runs = await pending;
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    expect(runs.map((run) => run.stdout)).toEqual(['version 2', 'version 2']);
    expect(countOf(runs, /building dist\/ \(sources changed\)/)).toBe(1);
    expect(builds()).toBe(2);
    await startMany(2);
    expect(builds()).toBe(2);
    expect(leftovers()).toEqual([]);
  });

  it('takes over the lock of a builder that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(path.join(project, 'dist.lock'), JSON.stringify({ pid: dead, host: hostname(), since: 'then' }));
    const runs = await startMany(2);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    expect(runs.map((run) => run.stdout)).toEqual(['version 1', 'version 1']);
    expect(builds()).toBe(1);
    expect(countOf(runs, new RegExp(`took over the lock of a build that is gone \\(pid ${dead}\\)`))).toBe(1);
    expect(leftovers()).toEqual([]);
  });

  it('waits while the lock is held by a live process', async () => {
    writeFileSync(
      path.join(project, 'dist.lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), since: 'now' }),
    );
    const waiter = start();
    await until(() => waiter.stderr().includes(`waiting for another build of dist/ (pid ${process.pid})`));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(builds()).toBe(0);
    rmSync(path.join(project, 'dist.lock'));
    expect(await waiter.exited).toMatchObject({ code: 0, stdout: 'version 1' });
    expect(builds()).toBe(1);
  });

  it('keeps the previous build when a build fails, and releases the lock', async () => {
    await startMany(1);
    writeFileSync(path.join(project, 'src/input.txt'), 'syntax error');
    const [failed] = await startMany(1);
    expect(failed!.code).not.toBe(0);
    expect(failed!.stderr).toMatch(/build failed/);
    expect(readFileSync(path.join(project, 'dist/out.txt'), 'utf8')).toBe('version 1');
    expect(leftovers()).toEqual([]);
    writeFileSync(path.join(project, 'src/input.txt'), 'version 3');
    const [fixed] = await startMany(1);
    expect(fixed).toMatchObject({ code: 0, stdout: 'version 3' });
    expect(builds()).toBe(3);
  });
});
