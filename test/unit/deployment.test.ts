import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configDefaults, loadConfig } from '../../src/config.js';
import { NGINX_CONF, upstreamServers } from '../support/nginx.js';

// No Docker engine runs where these tests run: the compose file and .env.example are kept
// right by checking them against the one config schema, and the compose file and
// deploy/nginx.conf against each other (test/concurrency/affinity.test.ts runs nginx.conf).
const keys = Object.keys(configDefaults());
const compose = parse(readFileSync('docker-compose.yml', 'utf8'));
/** The API services: those that run the server. */
const apiServices = Object.keys(compose.services)
  .filter((name) => JSON.stringify(compose.services[name].command) === JSON.stringify(['node', 'dist/server.js']))
  .sort();
const api = apiServices[0]!;

function envOf(service: string): Record<string, string> {
  return compose.services[service].environment as Record<string, string>;
}

describe('docker-compose.yml', () => {
  it('has postgres, redis, two APIs behind nginx, and the worker, each with what it needs', () => {
    // Prometheus and Grafana start only with `--profile observability`.
    const always = Object.keys(compose.services).filter((name) => compose.services[name].profiles === undefined);
    expect(always.sort()).toEqual(['api-1', 'api-2', 'nginx', 'postgres', 'redis', 'worker']);
    expect(apiServices).toEqual(['api-1', 'api-2']);
    for (const service of ['postgres', 'redis', 'nginx', ...apiServices]) {
      expect(compose.services[service].healthcheck, service).toBeDefined();
    }
    // Only nginx is reachable from outside: the APIs believe its X-Forwarded-For.
    for (const service of apiServices) expect(compose.services[service].ports, service).toBeUndefined();
    expect(compose.services.worker.command).toEqual(['node', 'dist/worker.js']);
    for (const service of [...apiServices, 'worker']) {
      expect(compose.services[service].depends_on.postgres.condition).toBe('service_healthy');
      expect(compose.services[service].depends_on.redis.condition).toBe('service_healthy');
    }
  });

  it('passes only configuration keys the service knows, and the ones production needs', () => {
    for (const service of [...apiServices, 'worker']) {
      const env = envOf(service);
      for (const key of Object.keys(env)) expect(keys, `${service}: ${key}`).toContain(key);
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'ADMIN_API_KEY', 'NODE_ENV']) {
        expect(env, `${service}: ${key}`).toHaveProperty(key);
      }
    }
    expect(envOf(api).HOST).toBe('0.0.0.0');
    // Behind nginx: one hop to trust by default.
    expect(envOf(api).TRUST_PROXY).toBe('${TRUST_PROXY:-1}');
  });

  it('runs every API process alike: the same image, command and environment', () => {
    for (const service of apiServices) {
      const { build, image, command, environment, depends_on, healthcheck } = compose.services[service];
      const first = compose.services[api];
      expect({ build, image, command, environment, depends_on, healthcheck }, service).toEqual({
        build: first.build,
        image: first.image,
        command: first.command,
        environment: first.environment,
        depends_on: first.depends_on,
        healthcheck: first.healthcheck,
      });
    }
  });

  it('points the services at the compose database and Redis', () => {
    const db = compose.services.postgres.environment;
    const url = new URL(envOf(api).DATABASE_URL!);
    expect([url.hostname, url.port, url.username, url.password, url.pathname]).toEqual([
      'postgres',
      '5432',
      db.POSTGRES_USER,
      db.POSTGRES_PASSWORD,
      `/${db.POSTGRES_DB}`,
    ]);
    expect(envOf('worker').DATABASE_URL).toBe(envOf(api).DATABASE_URL);
    expect(new URL(envOf(api).REDIS_URL!).hostname).toBe('redis');
  });

  it('gives a configuration the schema accepts (with an admin key filled in)', () => {
    for (const service of [...apiServices, 'worker']) {
      const env = Object.fromEntries(
        Object.entries(envOf(service)).map(([key, value]) => [
          key,
          String(value).replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_all, name: string, fallback?: string) =>
            name === 'ADMIN_API_KEY' ? 'a-production-admin-key' : (fallback ?? ''),
          ),
        ]),
      );
      expect(() => loadConfig(env, '/nonexistent/.env')).not.toThrow();
      // With the observability profile's METRICS_TOKEN set, too.
      const config = loadConfig({ ...env, METRICS_TOKEN: 'a-metrics-token-0123' }, '/nonexistent/.env');
      expect(config.METRICS_TOKEN, service).toBe('a-metrics-token-0123');
    }
  });

  it("opens the worker's metrics listener to the compose network, not to the host", () => {
    const worker = compose.services.worker;
    expect(envOf('worker').HOST).toBe('0.0.0.0');
    expect(Number(envOf('worker').WORKER_METRICS_PORT)).toBeGreaterThan(0);
    expect(worker.ports).toBeUndefined();
    // Empty when unset (the config treats empty as unset): the services start without the profile.
    for (const service of [...apiServices, 'worker']) {
      expect(envOf(service).METRICS_TOKEN, service).toBe('${METRICS_TOKEN:-}');
    }
  });
});

describe('the observability profile in docker-compose.yml', () => {
  const { prometheus, grafana } = compose.services;

  it('adds Prometheus and Grafana, official images pinned, only with --profile observability', () => {
    expect(prometheus.profiles).toEqual(['observability']);
    expect(grafana.profiles).toEqual(['observability']);
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(prometheus.ports).toBeUndefined();
    expect(grafana.ports).toEqual(['127.0.0.1:3001:3000']);
    expect(Object.keys(prometheus.depends_on).sort()).toEqual([...apiServices, 'worker'].sort());
    expect(grafana.depends_on.prometheus.condition).toBe('service_healthy');
    expect(prometheus.healthcheck).toBeDefined();
  });

  it('interpolates no required variable: a plain `docker compose up` needs only ADMIN_API_KEY', () => {
    const required = [...readFileSync('docker-compose.yml', 'utf8').matchAll(/(?<!\$)\$\{(\w+):\?/g)].map(
      (match) => match[1],
    );
    expect(new Set(required)).toEqual(new Set(['ADMIN_API_KEY']));
  });
});

describe('nginx in docker-compose.yml', () => {
  const nginx = compose.services.nginx;
  const conf = readFileSync(NGINX_CONF, 'utf8');

  it('runs the official image with deploy/nginx.conf, published on port 3000, once the APIs are healthy', () => {
    expect(nginx.image).toBe('nginx:1.27-alpine');
    expect(nginx.volumes).toContain(`./${NGINX_CONF}:/etc/nginx/nginx.conf:ro`);
    const listen = [...conf.matchAll(/^\s*listen\s+(\d+);$/gm)].map((match) => match[1]);
    expect(listen).toEqual(['8080']);
    expect(nginx.ports).toEqual(['3000:8080']);
    expect(Object.keys(nginx.depends_on).sort()).toEqual(apiServices);
    for (const service of apiServices) expect(nginx.depends_on[service].condition).toBe('service_healthy');
  });

  it('names exactly the API services, on their port, in both upstreams', () => {
    const upstreams = upstreamServers(conf);
    expect([...upstreams.keys()].sort()).toEqual(['api_any', 'api_by_show']);
    const port = envOf(api).PORT;
    for (const [name, servers] of upstreams) {
      expect(servers, name).toEqual(apiServices.map((service) => `${service}:${port}`));
    }
  });

  it('routes by show with a consistent hash on the show key, the rest round-robin', () => {
    const block = (name: string) => conf.match(new RegExp(`upstream ${name} \\{([^}]*)\\}`))![1]!;
    expect(block('api_by_show')).toMatch(/^\s*hash \$show_key consistent;$/m);
    expect(block('api_any')).not.toMatch(/\bhash\b/);
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
