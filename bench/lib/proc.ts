import { readFileSync } from 'node:fs';

/** Resident memory of a process in MB, from /proc; 0 once it is gone. */
export function rssMbOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU ms (user + system) the process has used so far, from /proc; undefined without a pid. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th, in ticks of 10 ms.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU a process spends between start() and the stop() it returns, in ms. */
export function cpuMeter(pid: number | undefined): () => number | undefined {
  const before = cpuMsOf(pid);
  return () => {
    const after = cpuMsOf(pid);
    return before === undefined || after === undefined ? undefined : after - before;
  };
}

/** Peak RSS of each watched process, sampled every 250 ms until stop(). */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  /** Peaks since the last startPeriod (each scenario's own). */
  private readonly periodPeaks = new Map<string, number>();
  private readonly pids = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sample(), 250);
    this.timer.unref();
  }

  watch(label: string, pid: number | undefined): void {
    if (!pid) return;
    this.pids.set(label, pid);
    this.sample();
  }

  unwatch(label: string): void {
    this.sample();
    this.pids.delete(label);
  }

  peak(label: string): number | undefined {
    return this.peaks.get(label);
  }

  /** Starts a new period: periodPeak tells the peak since. */
  startPeriod(): void {
    this.periodPeaks.clear();
    this.sample();
  }

  periodPeak(label: string): number | undefined {
    this.sample();
    return this.periodPeaks.get(label);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }

  private sample(): void {
    for (const [label, pid] of this.pids) {
      const rss = rssMbOf(pid);
      if (rss <= 0) continue;
      this.peaks.set(label, Math.max(this.peaks.get(label) ?? 0, rss));
      this.periodPeaks.set(label, Math.max(this.periodPeaks.get(label) ?? 0, rss));
    }
  }
}
