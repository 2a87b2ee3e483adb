import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { log, sleep } from './log.js';

/**
 * Many open GET /api/shows/:id/availability/stream connections, each its own socket (no
 * agent), parsed just enough to count `availability` events and measure their delay: arrival
 * (Date.now() when the chunk is read) minus the update's `changed_at` (the database time of the
 * newest change it covers; the bench and the database share the machine's clock). Nothing of an
 * event is kept but its delay.
 */
export class StreamFleet {
  /** Availability events per stream (the snapshot at connect included). */
  readonly events: Uint32Array;
  /** ms from changed_at to arrival, one per update received (snapshots carry no changed_at). */
  readonly delays: number[] = [];
  private readonly requests: ClientRequest[] = [];
  private readonly responses: (IncomingMessage | undefined)[] = [];
  /** Streams that ended or failed before close(). */
  lost = 0;
  private closing = false;

  constructor(
    private readonly url: string,
    readonly size: number,
  ) {
    this.events = new Uint32Array(size);
  }

  /** Opens the streams, `parallel` connects at a time; resolves once every one has its snapshot. */
  async open(parallel = 200, timeoutMs = 60_000): Promise<void> {
    let next = 0;
    const connectOne = async (): Promise<void> => {
      while (next < this.size) {
        const i = next++;
        await new Promise<void>((resolve) => {
          const request = get(this.url, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
            this.responses[i] = response;
            if (response.statusCode !== 200) {
              this.lost++;
              response.resume();
              resolve();
              return;
            }
            this.read(i, response);
            resolve();
          });
          request.on('error', () => {
            if (!this.closing) this.lost++;
            resolve();
          });
          this.requests[i] = request;
        });
      }
    };
    await Promise.all(Array.from({ length: parallel }, connectOne));
    const deadline = Date.now() + timeoutMs;
    while (this.withSnapshot() + this.lost < this.size) {
      if (Date.now() > deadline) {
        log(`streams: ${this.size - this.withSnapshot() - this.lost} streams without a snapshot after ${timeoutMs} ms`);
        return;
      }
      await sleep(50);
    }
  }

  withSnapshot(): number {
    let n = 0;
    for (const count of this.events) if (count > 0) n++;
    return n;
  }

  close(): void {
    this.closing = true;
    for (const request of this.requests) request.destroy();
  }

  private read(i: number, response: IncomingMessage): void {
    response.setEncoding('utf8');
    let rest = '';
    response.on('data', (chunk: string) => {
      const now = Date.now();
      const text = rest + chunk;
      let start = 0;
      let end: number;
      while ((end = text.indexOf('\n\n', start)) >= 0) {
        const frame = text.slice(start, end);
        start = end + 2;
        if (!frame.includes('event: availability')) continue;
        this.events[i]!++;
        const at = frame.indexOf('"changed_at":"');
        if (at >= 0) {
          const changedAt = Date.parse(frame.slice(at + 14, frame.indexOf('"', at + 14)));
          if (Number.isFinite(changedAt)) this.delays.push(now - changedAt);
        }
      }
      rest = text.slice(start);
    });
    const ended = () => {
      if (!this.closing) this.lost++;
    };
    response.on('error', () => {});
    response.once('close', ended);
  }
}

/** The p-th percentile (0–100) of the values, nearest rank; undefined for none. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
