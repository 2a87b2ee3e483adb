import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../config.js';
import { createPool, poolLimits, type Pool } from '../adapters/postgres/pool.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { runEntryPoint } from '../runtime.js';
import { createMetrics } from '../metrics.js';
import { createServices } from '../composition-root.js';

// `npm run openapi`: writes the OpenAPI document of the real app to openapi.json (committed).
// `npm run openapi:check` (CI): exits 1 when the committed openapi.json differs from it.

const FILE = fileURLToPath(new URL('../../openapi.json', import.meta.url));

/**
 * The documented defaults only: never the caller's environment or .env, so the document is
 * the same whoever generates it. The database URL is a placeholder that is never connected to.
 */
function documentConfig(): Config {
  return loadConfig(
    {
      NODE_ENV: 'test',
      ADMIN_API_KEY: 'openapi-placeholder-admin-key',
      DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
    },
    '/nonexistent/.env',
  );
}

/** The real app on a pool that is never queried (pg.Pool connects on first use only). */
async function buildDocumentedApp(config: Config): Promise<{ app: FastifyInstance; pool: Pool }> {
  const pool = createPool(config.DATABASE_URL!, poolLimits(config, 2));
  const logger = createLogger({ LOG_LEVEL: 'silent' }, 'openapi');
  try {
    const app = await buildApp({
      config,
      services: createServices({ config, pool, logger }),
      adminApiKey: config.ADMIN_API_KEY!,
      readiness: { database: () => pool.query('SELECT 1') },
      metrics: createMetrics('api'),
      logger,
    });
    return { app, pool };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

async function generate(config: Config): Promise<string> {
  const { app, pool } = await buildDocumentedApp(config);
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await pool.end();
  }
}

await runEntryPoint(
  'OpenAPI generation',
  async (config) => {
    const document = await generate(config);
    if (!process.argv.includes('--check')) {
      writeFileSync(FILE, document);
      process.stdout.write(`wrote ${FILE}\n`);
      return;
    }
    let committed: string | undefined;
    try {
      committed = readFileSync(FILE, 'utf8');
    } catch {
      committed = undefined;
    }
    if (committed === document) {
      process.stdout.write('openapi.json is up to date\n');
    } else {
      process.stderr.write('openapi.json is out of date: run npm run openapi\n');
      process.exitCode = 1;
    }
  },
  documentConfig,
);
