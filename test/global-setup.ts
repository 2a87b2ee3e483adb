import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/adapters/postgres/embedded.js';
import { migrate } from '../src/adapters/postgres/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    redisUrl: string;
  }
}

export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * The databases of earlier runs on this machine that were stopped before their teardown (vitest
 * killed, a terminal closed): those whose process no longer exists. Only on a server of this
 * machine, where a process id means something.
 */
async function dropLeftBehind(admin: pg.Client, adminUrl: string): Promise<void> {
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(new URL(adminUrl).hostname)) return;
  const { rows } = await admin.query<{ name: string; pid: string }>(
    `SELECT datname AS name, substring(datname FROM '^seat_hold_(?:template|test)_([0-9]+)_') AS pid
     FROM pg_database WHERE datname ~ '^seat_hold_(template|test)_[0-9]+_'`,
  );
  const gone = (pid: number) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  for (const { name, pid } of rows) {
    if (gone(Number(pid))) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/**
 * Tests use the PostgreSQL at DATABASE_URL (CI: the machine's server on 127.0.0.1), or an
 * embedded one when no database is configured, and the Redis at REDIS_URL (default
 * 127.0.0.1:6379). Either being unreachable fails the run: nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedDatabase | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres(path.resolve(`.data/test-${project.name}`));
    adminUrl = embedded.url;
  }
  // One template per project of the run (the projects set up side by side), named after this
  // process, as are the test files' databases copied from it.
  const template = `seat_hold_template_${process.pid}_${project.name.replace(/\W/g, '_')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await dropLeftBehind(admin, adminUrl);
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await migrate(databaseUrl(adminUrl, template));

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('redisUrl', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
  };
}
