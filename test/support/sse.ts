import { get, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { sleep } from '../helpers.js';

/** One Server-Sent Event as received. */
export interface SseEvent {
  event: string;
  id: string | undefined;
  data: any;
  /** Date.now() when it arrived. */
  at: number;
}

/**
 * A minimal EventSource for tests (Node 20 has none): one GET, the stream parsed as the
 * HTML living standard says (fields, blank line ends an event, `:` comments), no reconnect.
 */
export class SseStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  ended = false;
  private buffer = '';
  private lastId: string | undefined;

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly response: IncomingMessage,
  ) {}

  /** Opens the stream; resolves once the answer's headers arrive (a problem's body is read whole). */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
    return new Promise((resolve, reject) => {
      const request = get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } }, (response) => {
        const stream = new SseStream(response.statusCode ?? 0, response.headers, response);
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => stream.feed(chunk));
        response.on('end', () => (stream.ended = true));
        response.on('close', () => (stream.ended = true));
        response.on('error', () => (stream.ended = true));
        resolve(stream);
      });
      request.on('error', reject);
    });
  }

  /** The body of a non-stream answer (a problem), once it has arrived. */
  async body(): Promise<any> {
    await this.until(() => this.ended, 5_000, 'the body');
    return JSON.parse(this.buffer);
  }

  close(): void {
    this.response.destroy();
  }

  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Waits for an event (received from index `from` on) matching `predicate`. */
  async next(event: string, predicate: (data: any) => boolean = () => true, from = 0, timeoutMs = 5_000) {
    let found: SseEvent | undefined;
    await this.until(
      () => (found = this.events.slice(from).find((e) => e.event === event && predicate(e.data))) !== undefined,
      timeoutMs,
      `an ${event} event${from ? ` after #${from}` : ''}; got ${JSON.stringify(this.events.slice(from))}`,
    );
    return found!;
  }

  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  private feed(chunk: string): void {
    if (this.status !== 200) {
      this.buffer += chunk;
      return;
    }
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      let sawId = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') {
          this.lastId = value;
          sawId = true;
        } else if (field === 'retry') this.retry = Number(value);
      }
      if (data.length > 0) {
        this.events.push({
          event,
          id: sawId ? this.lastId : undefined,
          data: JSON.parse(data.join('\n')),
          at: Date.now(),
        });
      }
    }
  }

  /** The id to resume from, as EventSource keeps it. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }
}
