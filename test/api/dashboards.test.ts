import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics.js';
import { createExpiryQueue } from '../../src/jobs/expiry.queue.js';
import { producerConnection } from '../../src/adapters/redis.js';
import { expectProblem, sleep, startTestApp, type TestContext } from '../helpers.js';
import { admin, createShow, hold } from '../support/api.js';

// The dashboard's queries and the Prometheus configuration, checked against what the API and
// the worker really export, and against docker-compose.yml. No Docker engine runs here.
const DASHBOARD = 'deploy/grafana/dashboards/seat-hold.json';
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
const prometheus = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8'));
const datasources = parse(readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8'));
const providers = parse(readFileSync('deploy/grafana/provisioning/dashboards/seat-hold.yml', 'utf8'));
const compose = parse(readFileSync('docker-compose.yml', 'utf8'));

const servicesRunning = (command: string[]) =>
  Object.keys(compose.services)
    .filter((name) => JSON.stringify(compose.services[name].command) === JSON.stringify(command))
    .sort();
const apiServices = servicesRunning(['node', 'dist/server.js']);
const workerServices = servicesRunning(['node', 'dist/worker.js']);

/** Every panel, those inside collapsed rows too. */
const panels: any[] = dashboard.panels.flatMap((panel: any) => [panel, ...(panel.panels ?? [])]);
const queries: { panel: string; expr: string }[] = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target: any) => ({ panel: panel.title, expr: target.expr })),
);

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['instance', 'job'];
const FUNCTIONS_AND_KEYWORDS = /^(and|or|unless|bool|offset|inf|nan)$/i;

interface Selector {
  metric: string;
  labels: string[];
}

/**
 * The metric selectors of a PromQL expression (names and the labels they match on), and the
 * labels it groups by or creates (label_replace). Enough PromQL for the dashboard's queries.
 */
function analyse(expr: string): { selectors: Selector[]; groupedBy: string[]; created: string[] } {
  const created = [...expr.matchAll(/label_replace\(.*?,\s*"(\w+)",\s*"[^"]*",\s*"\w+",\s*"[^"]*"\s*\)/g)].map(
    (match) => match[1]!,
  );
  const groupedBy: string[] = [];
  const rest = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, labels: string) => {
      groupedBy.push(...labels.split(',').map((label) => label.trim()));
      return ' ';
    });
  const selectors: Selector[] = [];
  for (const match of rest.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?/g)) {
    const [, name, matchers, call] = match;
    if (call || FUNCTIONS_AND_KEYWORDS.test(name!)) continue;
    selectors.push({
      metric: name!,
      labels: [...(matchers ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!),
    });
  }
  return { selectors, groupedBy: groupedBy.filter(Boolean), created };
}

/** Sample names of a scrape, each with the label names its samples carry. */
function exported(text: string): Map<string, Set<string>> {
  const samples = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][\w:]*/.exec(line)![0];
    const labels = samples.get(name) ?? new Set<string>();
    for (const label of line.slice(name.length).matchAll(/(\w+)="(?:[^"\\]|\\.)*"/g)) labels.add(label[1]!);
    samples.set(name, labels);
  }
  return samples;
}

describe('deploy/grafana/dashboards/seat-hold.json', () => {
  it('is one dashboard Grafana can provision: uid, titled panels with unique ids, on the grid without overlaps', () => {
    expect(dashboard.uid).toBe('seat-hold');
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    const occupied = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(typeof panel.title === 'string' && panel.title.trim() !== '', JSON.stringify(panel.gridPos)).toBe(true);
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          expect(occupied.has(`${row},${column}`), `${panel.title} overlaps`).toBe(false);
          occupied.add(`${row},${column}`);
        }
      }
    }
    for (const panel of panels.filter((each) => each.type !== 'row')) {
      expect(panel.title.trim(), String(panel.id)).not.toBe('');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target.expr, panel.title).toMatch(/\S/);
    }
  });

  it('queries only the provisioned Prometheus datasource, by its uid', () => {
    const references: unknown[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'datasource') references.push(value);
          else walk(value);
        }
      }
    };
    walk(dashboard);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect(reference).toEqual({ type: 'prometheus', uid: 'prometheus' });
    // No import-time placeholders (${DS_PROMETHEUS}): the file is provisioned as it is.
    expect(JSON.stringify(dashboard)).not.toMatch(/\$\{DS_/);

    expect(datasources.datasources).toHaveLength(1);
    const [datasource] = datasources.datasources;
    expect(datasource).toMatchObject({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' });
    expect(compose.services.prometheus).toBeDefined();
    expect(datasource.jsonData.timeInterval).toBe(prometheus.global.scrape_interval);
  });

  it('groups by bounded labels only: never a show or booking id', () => {
    for (const { panel, expr } of queries) {
      for (const label of analyse(expr).groupedBy) expect(label, panel).not.toMatch(/show|booking|id$/);
    }
  });
});

describe('the dashboard against what the API and the worker export', () => {
  let ctx: TestContext;
  let redis: Redis;
  const prefix = `dashboards-${randomBytes(4).toString('hex')}`;
  let samples: Map<string, Set<string>>;
  let typed: Set<string>;

  beforeAll(async () => {
    ctx = await startTestApp({ HOLD_TTL_SECONDS: '1' });
    redis = producerConnection(inject('redisUrl'));
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    });
    // Fill the labelled series: a hold, a sold-out, a confirm, a cancel, an expiry by the sweep.
    const expiring = await hold(ctx.app, (await createShow(ctx.app, { total_seats: 1 })).id);
    const show = await createShow(ctx.app, { total_seats: 2 });
    const [first, second] = [await hold(ctx.app, show.id), await hold(ctx.app, show.id)];
    expectProblem(await ctx.app.inject({ method: 'POST', url: `/api/shows/${show.id}/book` }), 409, 'sold_out');
    const act = (id: string, action: string, token: string) =>
      ctx.app.inject({ method: 'POST', url: `/api/bookings/${id}/${action}`, headers: { 'x-hold-token': token } });
    expect((await act(first.id, 'confirm', first.hold_token)).statusCode).toBe(200);
    expect((await act(second.id, 'cancel', second.hold_token)).statusCode).toBe(200);
    await sleep(Math.max(0, Date.parse(expiring.expires_at) - Date.now() + 100));
    await ctx.services.housekeeping.run();

    const api = await ctx.app.inject({ method: 'GET', url: '/metrics', headers: admin });
    expect(api.statusCode).toBe(200);
    // The worker's registry, wired as src/worker.ts wires it: the pool, and the queue's job counts.
    const metrics = createMetrics('worker');
    metrics.watchPool(ctx.pool);
    const queue = createExpiryQueue(redis, prefix);
    metrics.watchQueue(() => queue.getJobCounts('waiting', 'delayed', 'active', 'failed'));
    // A webhook attempt, as WebhookDeliveryService reports each one (test/api/webhooks.test.ts
    // checks the real ones are counted).
    metrics.webhookAttempted('delivered', 0.02);
    const worker = await metrics.registry.metrics();
    await queue.close();

    const text = `${api.body}\n${worker}`;
    samples = exported(text);
    typed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
  });
  afterAll(async () => {
    await ctx?.close();
    redis?.disconnect();
  });

  it('uses only metrics both processes export, with the labels they carry', () => {
    expect(queries.length).toBeGreaterThan(0);
    for (const { panel, expr } of queries) {
      const { selectors, groupedBy, created } = analyse(expr);
      expect(selectors.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      const available = new Set([...TARGET_LABELS, ...created]);
      for (const { metric, labels } of selectors) {
        expect(metric, panel).toMatch(/^seat_hold_/);
        const base = metric.replace(/_(bucket|sum|count)$/, '');
        expect(typed.has(metric) || typed.has(base), `${panel}: ${metric} has no # TYPE line`).toBe(true);
        expect(samples.has(metric), `${panel}: no ${metric} sample`).toBe(true);
        for (const label of samples.get(metric)!) available.add(label);
        for (const label of labels) expect(samples.get(metric), `${panel}: ${metric}{${label}}`).toContain(label);
      }
      for (const label of groupedBy) expect(available, `${panel}: by (${label})`).toContain(label);
    }
  });

  it('covers every metric the processes define (apart from prom-client defaults left to Explore)', () => {
    const used = new Set(
      queries.flatMap(({ expr }) =>
        analyse(expr).selectors.map(({ metric }) => metric.replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    const own = [...typed].filter((name) => !/^seat_hold_(process|nodejs)_/.test(name));
    expect(own.length).toBeGreaterThan(0);
    for (const name of own) expect(used, name).toContain(name);
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const jobs: any[] = prometheus.scrape_configs;
  const env = (service: string) => compose.services[service].environment;

  it('scrapes exactly the API services of docker-compose.yml on their PORT, and the worker on its own listener', () => {
    expect(apiServices.length).toBeGreaterThan(0);
    expect(workerServices).toEqual(['worker']);
    const targets = jobs.flatMap((job) => job.static_configs.flatMap((config: any) => config.targets)).sort();
    expect(targets).toEqual(
      [
        ...apiServices.map((service) => `${service}:${env(service).PORT}`),
        ...workerServices.map((service) => `${service}:${env(service).WORKER_METRICS_PORT}`),
      ].sort(),
    );
    for (const service of workerServices) {
      expect(Number(env(service).WORKER_METRICS_PORT), service).toBeGreaterThan(0);
      expect(env(service).HOST, service).toBe('0.0.0.0');
    }
    expect(prometheus.global.scrape_interval).toBe('5s');
    for (const job of jobs) {
      expect(job.scrape_interval ?? prometheus.global.scrape_interval, job.job_name).toBe('5s');
      expect(job.metrics_path ?? '/metrics', job.job_name).toBe('/metrics');
      expect(job.scheme ?? 'http', job.job_name).toBe('http');
    }
  });

  it('sends METRICS_TOKEN, which the compose service writes to the credentials_file it names', () => {
    const service = compose.services.prometheus;
    const script: string = service.entrypoint.join(' ');
    for (const job of jobs) {
      expect(job.authorization.type, job.job_name).toBe('Bearer');
      expect(job.authorization.credentials, job.job_name).toBeUndefined();
      // "$$" is compose's escape for a "$" the shell sees.
      expect(script).toContain(`printf %s "$$METRICS_TOKEN" > ${job.authorization.credentials_file}`);
    }
    expect(service.environment.METRICS_TOKEN).toBe('${METRICS_TOKEN:-}');
    const config = /--config\.file=(\S+)/.exec(script)![1];
    expect(service.volumes).toContain(`./deploy/prometheus/prometheus.yml:${config}:ro`);
  });
});

describe('Grafana provisioning in docker-compose.yml', () => {
  it('mounts the provisioning files and the dashboards where the provider looks for them', () => {
    const volumes: string[] = compose.services.grafana.volumes;
    expect(volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(providers.providers).toHaveLength(1);
    const [provider] = providers.providers;
    expect(provider.type).toBe('file');
    expect(volumes).toContain(`./deploy/grafana/dashboards:${provider.options.path}:ro`);
    const home = compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home).toBe(`${provider.options.path}/${DASHBOARD.split('/').pop()}`);
  });
});
