import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { bareHost, isPublicAddress } from '../domain/webhook.js';

/** Most bytes of an answer read; the rest is never received (the socket is destroyed). */
export const RESPONSE_READ_LIMIT = 4096;
/** Most characters of an answer kept in the delivery log. */
const EXCERPT_LENGTH = 200;

export interface SendOptions {
  /** The whole attempt: connecting, sending, the answer's headers and the body read. */
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

export interface SendResult {
  statusCode: number | null;
  durationMs: number;
  /** null on a 2xx; otherwise why the attempt failed. */
  error: string | null;
}

class RefusedAddress extends Error {
  code = 'EADDRREFUSED';
}

/**
 * A DNS lookup that hands the socket only addresses a webhook may reach. It runs at connect
 * time, for the address actually connected to, so a host that resolved to a public address
 * when its URL was accepted and to a private one now (DNS rebinding) is still refused.
 */
function guardedLookup(allowPrivateNetworks: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = allowPrivateNetworks ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0) {
        return callback(new RefusedAddress(`${hostname} resolves only to private or reserved addresses`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/**
 * POSTs one webhook with node:http(s), never following a redirect (a 3xx is a failure), and
 * reads at most RESPONSE_READ_LIMIT bytes of the answer. Never throws: every failure is a result.
 */
export function sendWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve({ statusCode, durationMs: elapsed(), error });
    };
    let request: http.ClientRequest | undefined;
    const timer = setTimeout(() => finish(null, `timed out after ${options.timeoutMs} ms`), options.timeoutMs);

    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return finish(null, 'the URL is not valid');
    }
    // An IP literal is connected to without a lookup: judged here.
    const host = bareHost(url);
    if (isIP(host) !== 0 && !options.allowPrivateNetworks && !isPublicAddress(host)) {
      return finish(null, `${host} is a private or reserved address`);
    }
    const client = url.protocol === 'https:' ? https : http;
    try {
      request = client.request(url, {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'seat-hold-webhooks/1',
        },
        agent: false,
        lookup: guardedLookup(options.allowPrivateNetworks),
      });
    } catch (error) {
      return finish(null, (error as Error).message);
    }
    request.on('error', (error: NodeJS.ErrnoException) => {
      finish(null, error.code ? `${error.code}: ${error.message}` : error.message);
    });
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      // A 2xx within the timeout acknowledges the event, whatever its body does after.
      if (statusCode >= 200 && statusCode < 300) return finish(statusCode, null);
      const chunks: Buffer[] = [];
      let read = 0;
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_LENGTH);
        if (statusCode >= 300 && statusCode < 400) {
          const location = response.headers.location;
          return finish(
            statusCode,
            `redirect${location ? ` to ${location.slice(0, EXCERPT_LENGTH)}` : ''} not followed`,
          );
        }
        return finish(statusCode, `HTTP ${statusCode}${text ? `: ${text}` : ''}`);
      };
      response.on('data', (chunk: Buffer) => {
        if (read >= RESPONSE_READ_LIMIT) return;
        chunks.push(chunk.subarray(0, RESPONSE_READ_LIMIT - read));
        read += chunk.length;
        if (read >= RESPONSE_READ_LIMIT) done();
      });
      response.on('end', done);
      response.on('error', () => done());
    });
    request.end(body);
  });
}
