import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './log.js';
import { cpuMeter } from './proc.js';
import { ownChild } from './service.js';

const luaDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lua');

/**
 * wrk threads: 1 up to 128 connections, 2 above. Measured here (hold.lua on one hot show, 5 s runs,
 * six of each, alternated): at 64 connections -t1 and -t2 gave the API the same holds/s within
 * the noise (±15%; -t2 about 6% ahead on average) and -t1 used the least CPU (wrk about 0.17 of a
 * core, -t2 0.20); at 256 connections one thread held the API back (-t2 gave 27% more holds/s
 * for wrk at 0.23 of a core). autocannon, for comparison, took a whole core. BENCH_WRK_THREADS
 * overrides the choice.
 */
export function wrkThreads(connections: number): number {
  const forced = Number(process.env.BENCH_WRK_THREADS);
  return Number.isInteger(forced) && forced > 0 ? forced : connections > 128 ? 2 : 1;
}

/** What bench/lua/common.lua's done() prints, summed over wrk's threads. */
export interface WrkResult {
  /** Answers received. */
  requests: number;
  /** Requests sent (answered or still in flight when wrk stopped). */
  sent: number;
  /** From wrk's start to its stop, in seconds. */
  seconds: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  /** Answers (and other events) by the names the Lua script gave them: held, sold_out, confirmed… */
  counts: Record<string, number>;
  /** Latency of every answer, in ms (wrk's --latency). */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Socket errors: connect, read, write, timeout. */
  socketErrors: number;
  /** CPU the measured process (the API) used during the load, in ms; undefined without a pid. */
  cpuMs?: number;
}

export interface WrkOptions {
  title: string;
  url: string;
  /** File name in bench/lua/. */
  script: 'hold.lua' | 'read.lua' | 'mix.lua';
  connections: number;
  /** Upper bound in seconds; with limit, wrk stops as soon as every request is answered. */
  seconds: number;
  /** Exactly this many requests in all (split over the threads). */
  limit?: number;
  /** Show ids, written to a file the script reads. */
  shows: string[];
  /** More key=value arguments for the script. */
  args?: Record<string, string | number>;
  /** The process whose CPU is measured over the load (the API). */
  cpuOf?: number | undefined;
  /** wrk threads; by default wrkThreads(connections). */
  threads?: number;
  /** Ends the run early when aborted (SIGINT: wrk still reports what it measured until then). */
  stop?: AbortSignal;
}

let checked = false;

/** Exits with a clear message when wrk is not installed. */
export function requireWrk(): void {
  if (checked) return;
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version prints its usage and exits 1: only a missing binary is an error here.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(
        'The bench drives its load with wrk, which is not installed: apt-get install wrk (Debian/Ubuntu), then run it again.\n',
      );
      process.exit(2);
    }
  }
  checked = true;
}

/** The show lists handed to the Lua scripts, removed when the bench exits. */
const tmp = mkdtempSync(path.join(tmpdir(), 'seat-hold-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let files = 0;

/** Runs wrk with one of bench/lua's scripts and answers what its done() printed. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  requireWrk();
  const threads = Math.min(options.threads ?? wrkThreads(options.connections), options.connections);
  const showsFile = path.join(tmp, `shows-${files++}.txt`);
  writeFileSync(showsFile, `${options.shows.join('\n')}\n`);
  const scriptArgs = Object.entries({
    shows: showsFile,
    threads,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...options.args,
  }).map(([key, value]) => `${key}=${value}`);
  const wrkArgs = [
    `-t${threads}`,
    `-c${options.connections}`,
    `-d${Math.ceil(options.seconds)}s`,
    '--latency',
    '--timeout',
    '10s',
    '-s',
    path.join(luaDir, options.script),
    options.url,
    '--',
    ...scriptArgs,
  ];
  log(`\n${options.title}\n  wrk ${wrkArgs.join(' ')}`);
  const cpu = cpuMeter(options.cpuOf);
  const child = ownChild(spawn('wrk', wrkArgs, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  let threadsDone = 0;
  let interrupt: NodeJS.Timeout | undefined;
  const stop = () => {
    if (interrupt) return;
    child.kill('SIGINT');
    // Sent again should the first one come before wrk has set its handler.
    interrupt = setInterval(() => child.kill('SIGINT'), 1000);
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    // wrk's main thread sleeps for all of -d: once every thread has answered its share, SIGINT ends it early.
    threadsDone += chunk.match(/BENCH_THREAD_DONE/g)?.length ?? 0;
    if (options.limit !== undefined && threadsDone >= threads) stop();
  });
  if (options.stop?.aborted) stop();
  options.stop?.addEventListener('abort', stop, { once: true });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  options.stop?.removeEventListener('abort', stop);
  clearInterval(interrupt);
  const cpuMs = cpu();
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk (exit ${code}) printed no BENCH_RESULT line:\n${stdout}\n${stderr}`);
  const raw = JSON.parse(line.slice('BENCH_RESULT '.length)) as {
    requests: number;
    sent: number;
    duration_us: number;
    statuses: Record<string, number>;
    counts: Record<string, number>;
    latency_us: Record<'p50' | 'p90' | 'p99' | 'max' | 'mean', number>;
    errors: Record<'connect' | 'read' | 'write' | 'timeout', number>;
  };
  const ms = (us: number) => Math.round(us / 100) / 10;
  const result: WrkResult = {
    requests: raw.requests,
    sent: raw.sent,
    seconds: raw.duration_us / 1e6,
    statuses: raw.statuses,
    counts: raw.counts,
    latency: {
      p50: ms(raw.latency_us.p50),
      p90: ms(raw.latency_us.p90),
      p99: ms(raw.latency_us.p99),
      max: ms(raw.latency_us.max),
      mean: ms(raw.latency_us.mean),
    },
    socketErrors: raw.errors.connect + raw.errors.read + raw.errors.write + raw.errors.timeout,
    ...(cpuMs === undefined ? {} : { cpuMs }),
  };
  log(
    `  ${result.requests} answers in ${result.seconds.toFixed(2)} s; statuses ${JSON.stringify(result.statuses)}; ` +
      `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
  );
  return result;
}

/** Answers whose status is not one of `expected`, plus socket errors. */
export function unexpected(result: WrkResult, ...expected: number[]): number {
  const other = Object.entries(result.statuses)
    .filter(([status]) => !expected.includes(Number(status)))
    .reduce((sum, [, n]) => sum + n, 0);
  return other + result.socketErrors;
}
