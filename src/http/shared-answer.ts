import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Smaller bodies are sent as they are: compressing them saves less than its headers cost. */
const COMPRESS_FROM_BYTES = 1024;

type Encoding = 'br' | 'gzip';

/** An answer made once for every request its value is shared with (SharedReads). */
interface Prepared {
  body: string;
  /** The hash of the body: the entity tag, with a suffix per content coding. */
  tag: string;
  /** Compressed off the event loop, once, when a request first accepts the coding. */
  encoded: Partial<Record<Encoding, Promise<Buffer>>>;
}

// Kept beside the value: when the shared read lets go of it, its answer goes too.
const prepared = new WeakMap<object, Prepared>();

/**
 * Sends a value shared between requests (a show, a page of shows, a seat map) as its route
 * serializes it, made once per value: a strong ETag (304 on If-None-Match), `Cache-Control:
 * no-cache` (a cache asks again every time, and gets 304 while nothing changed), and brotli or
 * gzip where the client accepts them and the body is large.
 */
export async function sendShared(request: FastifyRequest, reply: FastifyReply, value: object): Promise<FastifyReply> {
  let answer = prepared.get(value);
  if (!answer) {
    const body = reply.serialize(value) as string;
    answer = { body, tag: createHash('sha256').update(body).digest('base64url').slice(0, 27), encoded: {} };
    prepared.set(value, answer);
  }
  const large = answer.body.length >= COMPRESS_FROM_BYTES;
  const encoding = large ? acceptedEncoding(request.headers['accept-encoding']) : undefined;
  const etag = encoding ? `"${answer.tag}-${encoding}"` : `"${answer.tag}"`;
  void reply.header('etag', etag).header('cache-control', 'no-cache');
  // Beside what is already there (CORS's Vary: Origin): the answer differs by both.
  if (large) void reply.header('vary', joinVary(reply.getHeader('vary'), 'accept-encoding'));
  if (notModified(request.headers['if-none-match'], etag)) return reply.code(304).send();
  void reply.type('application/json; charset=utf-8');
  if (!encoding) return reply.send(answer.body);
  const { encoded: codings, body } = answer;
  // A failed compression is not kept: the next request tries again.
  const encoded = (codings[encoding] ??= compress(body, encoding).catch((error: unknown) => {
    delete codings[encoding];
    throw error;
  }));
  return reply.header('content-encoding', encoding).send(await encoded);
}

function compress(body: string, encoding: Encoding): Promise<Buffer> {
  if (encoding === 'gzip') return gzipAsync(body);
  // Quality 5: a few ms for a 100,000-seat map (11, the default, takes ten times longer for a few % less).
  return brotli(body, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(body) },
  });
}

// Clients send a few distinct Accept-Encoding values (one per browser); each is parsed once.
const encodingOf = new Map<string, Encoding | undefined>();
const MAX_REMEMBERED_ENCODINGS = 100;

/** brotli, else gzip, when the client accepts it (a coding with q=0 is refused); undefined: none. */
export function acceptedEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  if (encodingOf.has(header)) return encodingOf.get(header);
  const encoding = parseAcceptEncoding(header);
  if (encodingOf.size < MAX_REMEMBERED_ENCODINGS) encodingOf.set(header, encoding);
  return encoding;
}

function parseAcceptEncoding(header: string): Encoding | undefined {
  const accepted = new Set<string>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    if (q === undefined || Number(q) > 0) accepted.add(name.trim());
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return undefined;
}

/**
 * Whether If-None-Match names the representation about to be sent (RFC 9110: weak comparison,
 * `*` matches). Only its own tag: a cache that stored another coding's variant is answered in full,
 * so that it never updates a stored variant with the headers of another.
 */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((given) => {
    const value = given.trim().replace(/^W\//, '');
    return value === '*' || value === etag;
  });
}

function joinVary(existing: unknown, name: string): string {
  const given = Array.isArray(existing) ? existing.join(', ') : typeof existing === 'string' ? existing : '';
  if (given === '') return name;
  return given.split(',').some((part) => part.trim().toLowerCase() === name) ? given : `${given}, ${name}`;
}
