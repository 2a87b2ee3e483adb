import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configDefaults, loadConfig } from '../../src/config.js';

// No Docker engine runs where these tests run: the compose file and .env.example are kept
// right by checking them against the one config schema.
const keys = Object.keys(configDefaults());
const compose = parse(readFileSync('docker-compose.yml', 'utf8'));

function envOf(service: string): Record<string, string> {
  return compose.services[service].environment as Record<string, string>;
}

describe('docker-compose.yml', () => {
  it('has postgres, redis, api and worker, each with what it needs', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    for (const service of ['postgres', 'redis', 'api']) expect(compose.services[service].healthcheck).toBeDefined();
    expect(compose.services.api.ports).toContain('3000:3000');
    expect(compose.services.api.command).toEqual(['node', 'dist/server.js']);
    expect(compose.services.worker.command).toEqual(['node', 'dist/worker.js']);
    for (const service of ['api', 'worker']) {
      expect(compose.services[service].depends_on.postgres.condition).toBe('service_healthy');
      expect(compose.services[service].depends_on.redis.condition).toBe('service_healthy');
    }
  });

  it('passes only configuration keys the service knows, and the ones production needs', () => {
    for (const service of ['api', 'worker']) {
      const env = envOf(service);
      for (const key of Object.keys(env)) expect(keys, `${service}: ${key}`).toContain(key);
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_API_KEY', 'NODE_ENV']) {
        expect(env, `${service}: ${key}`).toHaveProperty(key);
      }
    }
    expect(envOf('api').HOST).toBe('0.0.0.0');
  });

  it('points the services at the compose database and Redis', () => {
    const db = compose.services.postgres.environment;
    const url = new URL(envOf('api').DATABASE_URL!);
    expect([url.hostname, url.port, url.username, url.password, url.pathname]).toEqual([
      'postgres',
      '5432',
      db.POSTGRES_USER,
      db.POSTGRES_PASSWORD,
      `/${db.POSTGRES_DB}`,
    ]);
    expect(envOf('worker').DATABASE_URL).toBe(envOf('api').DATABASE_URL);
    expect(new URL(envOf('api').REDIS_URL!).hostname).toBe('redis');
  });

  it('gives a configuration the schema accepts (with an admin key filled in)', () => {
    for (const service of ['api', 'worker']) {
      const env = Object.fromEntries(
        Object.entries(envOf(service)).map(([key, value]) => [
          key,
          String(value).replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_all, name: string, fallback?: string) =>
            name === 'ADMIN_API_KEY' ? 'a-production-admin-key' : (fallback ?? ''),
          ),
        ]),
      );
      expect(() => loadConfig(env, '/nonexistent/.env')).not.toThrow();
    }
  });
});

describe('.env.example', () => {
  it('lists every configuration key with its default', () => {
    const lines = readFileSync('.env.example', 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line));
    const example = Object.fromEntries(lines.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(Object.keys(example).sort()).toEqual([...keys].sort());
    for (const [key, fallback] of Object.entries(configDefaults())) {
      expect(example[key], key).toBe(fallback === undefined ? '' : String(fallback as string | number));
    }
  });
});
