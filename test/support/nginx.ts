import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from '../helpers.js';
import { freePort, ServiceProcess } from './processes.js';

/** The load balancer's configuration as shipped (docker-compose.yml mounts it into the nginx service). */
export const NGINX_CONF = 'deploy/nginx.conf';

/** The `server` entries of each `upstream` block of an nginx configuration, in order. */
export function upstreamServers(conf: string): Map<string, string[]> {
  const upstreams = new Map<string, string[]>();
  for (const block of conf.matchAll(/^\s*upstream\s+(\S+)\s*\{([^}]*)\}/gm)) {
    const servers = [...block[2]!.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((server) => server[1]!);
    upstreams.set(block[1]!, servers);
  }
  return upstreams;
}

/** Replaces every match of `pattern` (global), insisting on exactly `count` matches. */
function substitute(
  text: string,
  pattern: RegExp,
  replacement: string | ((match: string, ...groups: string[]) => string),
  count: number,
): string {
  const found = text.match(pattern)?.length ?? 0;
  if (found !== count) {
    throw new Error(`${NGINX_CONF}: expected ${count} match(es) of ${pattern}, found ${found}: update the rewrite`);
  }
  return typeof replacement === 'string' ? text.replace(pattern, replacement) : text.replace(pattern, replacement);
}

export interface NginxRewrite {
  /** Directory for the pid file, logs and temp files. */
  dir: string;
  port: number;
  /** Compose service name (as in `server api-1:3000`) → the host:port that stands in for it. */
  servers: Record<string, string>;
}

/**
 * The shipped configuration with only what differs outside docker compose replaced: the
 * upstream servers, the listen port, the user, and the pid, log and temp paths. Each
 * replacement must match the expected number of lines, so a reshaped file fails here loudly
 * rather than being run half-rewritten.
 */
export function rewriteNginxConf(conf: string, { dir, port, servers }: NginxRewrite): string {
  const asRoot = process.getuid?.() === 0;
  let text = conf;
  // As root the workers would run as `nobody`, who cannot write the test's temp directory.
  text = substitute(text, /^user\s+[^;]+;$/gm, asRoot ? 'user root;' : '', 1);
  text = substitute(text, /^pid\s+[^;]+;$/gm, `pid ${dir}/nginx.pid;`, 1);
  text = substitute(text, /^(\s*)error_log\s+\S+(\s+\w+)?;$/gm, `$1error_log ${dir}/error.log$2;`, 1);
  text = substitute(text, /^(\s*)access_log\s+\S+\s+(\w+);$/gm, `$1access_log ${dir}/access.log $2;`, 1);
  text = substitute(text, /^(\s*)listen\s+8080;$/gm, `$1listen 127.0.0.1:${port};`, 1);
  const serverLines = [...upstreamServers(conf).values()].flat().length;
  text = substitute(
    text,
    /^(\s*server\s+)([\w.-]+):3000\b/gm,
    (_line, start: string, name: string) => {
      const address = servers[name];
      if (address === undefined) throw new Error(`${NGINX_CONF}: no stand-in given for upstream server ${name}`);
      return start + address;
    },
    serverLines,
  );
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${dir}/${kind}_temp;`)
    .join('\n');
  return substitute(text, /^http\s*\{$/gm, `http {\n${temp}`, 1);
}

/** Debian's nginx binary (or one on PATH); throws when there is none: the test must not skip. */
export function nginxBinary(): string {
  const candidates = ['/usr/sbin/nginx', ...(process.env.PATH ?? '').split(':').map((dir) => path.join(dir, 'nginx'))];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('nginx is not installed (apt-get install nginx); .ci/run installs it');
}

/** One line of the access log (the `show_affinity` JSON log format of deploy/nginx.conf). */
export interface AccessLogEntry {
  request_id: string;
  method: string;
  uri: string;
  status: number;
  show_key: string;
  /** Every server tried, in order ("a, b" when nginx moved on to the next); the last one answered. */
  upstream: string;
  upstream_status: string;
}

export class Nginx {
  private constructor(
    readonly process: ServiceProcess,
    readonly dir: string,
    readonly url: string,
  ) {}

  /** Runs the shipped configuration, rewritten by `rewriteNginxConf`; resolves once /health answers through it. */
  static async start(servers: Record<string, string>): Promise<Nginx> {
    const binary = nginxBinary();
    const dir = mkdtempSync(path.join(tmpdir(), 'seat-hold-nginx-'));
    let nginx: Nginx | undefined;
    try {
      const port = await freePort();
      const confPath = path.join(dir, 'nginx.conf');
      writeFileSync(confPath, rewriteNginxConf(readFileSync(NGINX_CONF, 'utf8'), { dir, port, servers }));
      const child = spawn(binary, ['-p', dir, '-c', confPath, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      nginx = new Nginx(new ServiceProcess('nginx', child), dir, `http://127.0.0.1:${port}`);
      await nginx.waitUntilServing();
      return nginx;
    } catch (error) {
      await nginx?.process.stop(); // SIGTERM: the master takes its workers down with it
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private async waitUntilServing(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.process.alive) {
        await this.process.exited;
        throw new Error(`nginx exited at start:\n${this.process.log()}\n${this.errorLog()}`);
      }
      try {
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`nginx did not serve /health:\n${this.errorLog()}`);
      await sleep(100);
    }
  }

  errorLog(): string {
    try {
      return readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  accessLog(): AccessLogEntry[] {
    let text: string;
    try {
      text = readFileSync(path.join(this.dir, 'access.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AccessLogEntry);
  }

  /**
   * The access log entries of these request ids, once all are written (nginx logs a request
   * just after answering it).
   */
  async entriesFor(requestIds: string[], timeoutMs = 5_000): Promise<Map<string, AccessLogEntry>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const byId = new Map(this.accessLog().map((entry) => [entry.request_id, entry]));
      const missing = requestIds.filter((id) => !byId.has(id));
      if (missing.length === 0) return byId;
      if (Date.now() > deadline)
        throw new Error(`nginx logged no entry for ${missing.length} request(s): ${missing[0]}…`);
      await sleep(50);
    }
  }

  /** Stops nginx (fast shutdown) and removes its directory. */
  async close(): Promise<void> {
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
