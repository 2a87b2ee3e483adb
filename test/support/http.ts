/**
 * Requests over a real socket (an app listening on 127.0.0.1, an API process), for the tests that
 * need many connections at once; `Api` (support/api.ts) is the in-process vocabulary.
 */

/** An answer as a socket test reads it: status, content type and the JSON body. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: Record<string, any>;
}

/** One request to `base` (e.g. `http://127.0.0.1:40123`), a JSON body when one is given. */
export async function request(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: (await response.json()) as Record<string, any>,
  };
}

export const post = (base: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  request(base, 'POST', path, body, headers);

/** A problem+json answer with this status and code. */
export function isProblem(answer: HttpAnswer, status: number, code: string): boolean {
  return (
    answer.status === status &&
    answer.contentType.startsWith('application/problem+json') &&
    answer.body.code === code &&
    answer.body.type === `urn:seat-hold:problem:${code}`
  );
}
