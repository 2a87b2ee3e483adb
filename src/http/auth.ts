import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { hashSecret, secretMatches } from '../secrets.js';
import type { Caller } from '../services/booking.service.js';

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function holdTokenHeader(request: FastifyRequest): string | undefined {
  const value = request.headers['x-hold-token'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Reads the admin key and hold token from requests; secrets are compared in constant time. */
export class Authenticator {
  private readonly adminKeyHash: Buffer;
  private readonly metricsTokenHash: Buffer | undefined;

  constructor(adminApiKey: string, metricsToken?: string) {
    this.adminKeyHash = hashSecret(adminApiKey);
    this.metricsTokenHash = metricsToken === undefined ? undefined : hashSecret(metricsToken);
  }

  isAdmin(request: FastifyRequest): boolean {
    const token = bearerToken(request);
    return token !== undefined && secretMatches(token, this.adminKeyHash);
  }

  /** preHandler for admin routes: 401 without the admin key or with a wrong one. */
  requireAdmin = async (request: FastifyRequest): Promise<void> => {
    if (!this.isAdmin(request)) {
      throw new AppError('unauthorized', 'This route needs the admin key: Authorization: Bearer <ADMIN_API_KEY>');
    }
  };

  /** preHandler of GET /metrics: the admin key, or METRICS_TOKEN when one is set. */
  requireMetricsReader = async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    const allowed =
      token !== undefined &&
      (secretMatches(token, this.adminKeyHash) ||
        (this.metricsTokenHash !== undefined && secretMatches(token, this.metricsTokenHash)));
    if (!allowed) {
      throw new AppError('unauthorized', 'Metrics need Authorization: Bearer <ADMIN_API_KEY or METRICS_TOKEN>');
    }
  };

  /**
   * Whose Idempotency-Keys a request uses: the admin, the holder of one hold token, or
   * anonymous customers (whose keys must be unguessable, as UUIDs are).
   */
  scope(request: FastifyRequest): string {
    if (this.isAdmin(request)) return 'admin';
    const holdToken = holdTokenHeader(request);
    return holdToken === undefined ? 'anonymous' : `token:${hashSecret(holdToken).toString('hex')}`;
  }

  caller(request: FastifyRequest): Caller {
    const holdToken = holdTokenHeader(request);
    return {
      isAdmin: this.isAdmin(request),
      holdToken,
      presentedCredentials: holdToken !== undefined || request.headers.authorization !== undefined,
    };
  }
}
