import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables, parseConfig } from '../../lib/config.ts';
import { destinationFor, parseCaddyfile, upstreams, type Site } from '../support/caddyfile.ts';

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '../..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, any>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const ourServices = ['provision', 'api', 'worker', 'realtime'];
const oneShots = ['temporal-schema', 'provision'];

// Compose interpolation as a deployer's .env would resolve it.
const deployEnv: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret',
  STREAMHUB_S3_SECRET: 'minio-secret-0123456789',
  STREAMHUB_INTERNAL_SECRET: 'internal-secret-0123456789',
  STREAMHUB_JWT_SECRET: 'jwt-secret-0123456789-0123456789-0123456789',
  STREAMHUB_HOST: 'video.example.org',
  STREAMHUB_S3_HOST: 's3.video.example.org',
};
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g, (_, name: string, op: string, rest: string) => {
    if (deployEnv[name] !== undefined) return deployEnv[name]!;
    if (op === '-') return rest;
    throw new Error(`${name} is required: ${rest}`);
  });
}
function environmentOf(service: string): Record<string, string> {
  const environment = (compose.services[service].environment ?? {}) as Record<string, string | number>;
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(String(v))]));
}

interface PublishedPort {
  hostIp: string;
  hostPort: string;
  containerPort: string;
  protocol: string;
}
/** Compose's short (`[ip:]host:container[/proto]`) and long port syntax. */
function publishedPorts(service: string): PublishedPort[] {
  return ((compose.services[service].ports ?? []) as unknown[]).map((entry) => {
    if (typeof entry === 'object' && entry !== null) {
      const long = entry as { target: number; published?: string | number; host_ip?: string; protocol?: string };
      return { hostIp: long.host_ip ?? '', hostPort: String(long.published ?? ''), containerPort: String(long.target), protocol: long.protocol ?? 'tcp' };
    }
    const [spec, protocol = 'tcp'] = String(entry).split('/');
    const parts = spec!.split(':');
    if (parts.length > 3 || spec!.includes('[')) throw new Error(`${service}: port syntax not understood: ${String(entry)}`);
    const [hostIp, hostPort, containerPort] = parts.length === 3 ? parts : parts.length === 2 ? ['', ...parts] : ['', '', parts[0]];
    return { hostIp: hostIp!, hostPort: hostPort!, containerPort: containerPort!, protocol };
  });
}
const isLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1';

/** The proxy's site for a host, read from the Caddyfile the proxy service mounts, with its environment. */
function proxySite(host: string): Site {
  const proxy = compose.services.proxy;
  if (!proxy) throw new Error('no proxy service');
  const mount = (proxy.volumes as string[]).find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'));
  if (!mount) throw new Error('the proxy mounts no Caddyfile');
  const caddy = parseCaddyfile(readFileSync(path.join(root, mount.split(':')[0]!), 'utf8'), environmentOf('proxy'));
  const site = caddy.sites.find((s) => s.addresses.includes(host));
  if (!site) throw new Error(`the proxy has no site for ${host}`);
  return site;
}
const appSite = () => proxySite('video.example.org');
const s3Site = () => proxySite('s3.video.example.org');

describe('docker-compose.yml', () => {
  it('names every service of DESIGN.md §2, the proxy in front and the Temporal schema job', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['api', 'mailpit', 'minio', 'mongo', 'nats', 'nginx-rtmp', 'postgres', 'provision', 'proxy', 'realtime', 'temporal', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
    );
  });

  it('publishes only the proxy (80, 443) and RTMP ingest (1935) publicly, and the operator consoles on loopback', () => {
    const published = Object.fromEntries(
      Object.keys(compose.services).map((name) => [name, publishedPorts(name).map((p) => `${p.hostIp || '*'}:${p.hostPort}->${p.containerPort}/${p.protocol}`)]),
    );
    expect(published).toEqual({
      proxy: ['*:80->80/tcp', '*:443->443/tcp', '*:443->443/udp'],
      'nginx-rtmp': ['*:1935->1935/tcp'],
      'temporal-ui': ['127.0.0.1:8233->8080/tcp'],
      minio: ['127.0.0.1:9001->9001/tcp'],
      mailpit: ['127.0.0.1:8025->8025/tcp'],
      postgres: [], 'temporal-schema': [], temporal: [], mongo: [], nats: [], provision: [], api: [], worker: [], realtime: [],
    });
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.network_mode, `${name} shares the host's network`).toBeUndefined();
      expect(service.expose, name).toBeUndefined();
    }
  });

  it('keeps the Temporal UI, MinIO console and mailpit UI off every public path', () => {
    for (const port of [...publishedPorts('temporal-ui'), ...publishedPorts('minio'), ...publishedPorts('mailpit')]) expect(isLoopback(port.hostIp)).toBe(true);
    const reachable = [...upstreams(appSite()), ...upstreams(s3Site())];
    expect(reachable.sort()).toEqual(['api:3000', 'minio:9000', 'nginx-rtmp:8080', 'realtime:3001']);
  });

  it('runs the Temporal server image after a one-shot schema job of the same release, not the deprecated auto-setup', () => {
    for (const [name, service] of Object.entries(compose.services)) expect(String(service.image ?? ''), name).not.toMatch(/auto-setup/);
    const version = (image: string) => image.split(':')[1];
    const { temporal, 'temporal-schema': schema } = compose.services;
    expect(temporal.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(schema.image).toBe(`temporalio/admin-tools:${version(temporal.image)}`);
    expect(temporal.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });

    const [scriptFile, mountedAt] = (schema.volumes as string[])[0]!.split(':');
    expect(schema.entrypoint).toEqual(['sh', mountedAt]);
    const script = readFileSync(path.join(root, scriptFile!), 'utf8');
    expect(script).toContain('for schema in temporal:temporal visibility:temporal_visibility; do');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"']) {
      expect(script).toContain(`sql_tool "$db" ${step}`);
    }
    // The server and its schema tool talk to the same database as the same user.
    const { SQL_PASSWORD, ...schemaDb } = environmentOf('temporal-schema');
    const { BIND_ON_IP, ...serverDb } = environmentOf('temporal');
    expect(schemaDb).toEqual(serverDb);
    expect(SQL_PASSWORD).toBe(serverDb.POSTGRES_PWD);
    expect(serverDb).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', POSTGRES_USER: 'streamhub' });
  });

  it('health-checks every long-running service with a command that asks the service itself', () => {
    const nodeFetch = (url: string) => ['CMD', 'node', '-e', `fetch('${url}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
    const checks = Object.fromEntries(
      Object.entries(compose.services).filter(([name]) => !oneShots.includes(name)).map(([name, s]) => [name, s.healthcheck?.test]),
    );
    expect(checks).toEqual({
      proxy: ['CMD', 'wget', '-qO', '/dev/null', 'http://127.0.0.1:2019/config/'],
      postgres: ['CMD-SHELL', 'pg_isready -U streamhub -d streamhub'],
      temporal: ['CMD', 'nc', '-z', '127.0.0.1', '7233'],
      'temporal-ui': ['CMD-SHELL', 'wget -qO- http://127.0.0.1:8080/ >/dev/null || exit 1'],
      mongo: ['CMD', 'mongosh', '--quiet', '--eval', "db.adminCommand('ping').ok"],
      minio: ['CMD', 'curl', '-fsS', 'http://127.0.0.1:9000/minio/health/live'],
      mailpit: ['CMD', '/mailpit', 'readyz'],
      nats: ['CMD', 'wget', '-qO-', 'http://127.0.0.1:8222/healthz?js-enabled-only=true'],
      api: nodeFetch('http://127.0.0.1:3000/health'),
      worker: nodeFetch('http://127.0.0.1:9464/metrics'),
      realtime: nodeFetch('http://127.0.0.1:3001/health'),
      'nginx-rtmp': ['CMD', 'curl', '-fsS', 'http://127.0.0.1:8080/healthz'],
    });
    for (const name of oneShots) {
      expect(compose.services[name].healthcheck, name).toBeUndefined();
      expect(compose.services[name].restart, name).toBe('on-failure');
    }
  });

  it('routes the public site to the API, the gateway and live HLS, and never /internal or /metrics', () => {
    const cases: [string, unknown][] = [
      ['/', { upstream: 'api:3000' }],
      ['/api/v1/users/creator', { upstream: 'api:3000' }],
      ['/docs', { upstream: 'api:3000' }],
      ['/health', { upstream: 'api:3000' }],
      ['/ws', { upstream: 'realtime:3001' }],
      ['/hls/0b5c1d2e.m3u8', { upstream: 'nginx-rtmp:8080' }],
      ['/internal/ping', { respond: 404 }],
      ['/internal/rtmp/publish', { respond: 404 }],
      ['/internal', { respond: 404 }],
      ['/INTERNAL/ping', { respond: 404 }],
      ['//internal/ping', { respond: 404 }],
      ['/api/../internal/ping', { respond: 404 }],
      ['/%69nternal/ping', { respond: 404 }],
      ['/api/..%2Finternal/ping', { respond: 404 }],
      ['/metrics', { respond: 404 }],
    ];
    for (const [requestPath, expected] of cases) expect(destinationFor(appSite(), requestPath), requestPath).toEqual(expected);
  });

  it('gives S3 its own public host, without MinIO admin, metrics or health', () => {
    expect(destinationFor(s3Site(), '/streamhub/videos/abc/source')).toEqual({ upstream: 'minio:9000' });
    expect(destinationFor(s3Site(), '/minio/admin/v3/info')).toEqual({ respond: 404 });
    expect(destinationFor(s3Site(), '/minio/v2/metrics/cluster')).toEqual({ respond: 404 });
  });

  it('tells clients the addresses the proxy serves', () => {
    const config = parseConfig(environmentOf('api'));
    expect(new URL(config.publicUrls.api).host).toBe('video.example.org');
    expect(destinationFor(appSite(), new URL(config.publicUrls.realtime).pathname)).toEqual({ upstream: 'realtime:3001' });
    expect(destinationFor(appSite(), `${new URL(config.publicUrls.hls).pathname}/abc.m3u8`)).toEqual({ upstream: 'nginx-rtmp:8080' });
    expect(config.s3.publicEndpoint).toBe('https://s3.video.example.org');
    expect(config.publicUrls.rtmp).toBe('rtmp://video.example.org:1935/live');
  });

  it('talks to Stripe itself (keys from .env, or payments off), and Stripe reaches the webhook through the proxy', () => {
    expect(parseConfig(environmentOf('api')).payments).toMatchObject({ stripe: undefined });
    const keys = { STREAMHUB_STRIPE_SECRET_KEY: 'sk_live_0123456789abcdef', STREAMHUB_STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abcdef0123' };
    Object.assign(deployEnv, keys);
    try {
      for (const name of ['api', 'worker']) {
        expect(parseConfig(environmentOf(name)).payments.stripe, name).toEqual({
          secretKey: keys.STREAMHUB_STRIPE_SECRET_KEY,
          webhookSecret: keys.STREAMHUB_STRIPE_WEBHOOK_SECRET,
          apiBaseUrl: undefined,
        });
      }
    } finally {
      for (const name of Object.keys(keys)) delete deployEnv[name];
    }
    expect(destinationFor(appSite(), '/api/v1/webhooks/stripe')).toEqual({ upstream: 'api:3000' });
  });

  it('trusts X-Forwarded-For only in the services the proxy is the only way into', () => {
    const trusting = ourServices.filter((name) => parseConfig(environmentOf(name)).rateLimits.trustProxy);
    expect(trusting).toEqual(['api', 'realtime']);
    const proxied = upstreams(appSite()).map((u) => u.split(':')[0]);
    for (const name of trusting) {
      expect(publishedPorts(name), name).toEqual([]);
      expect(proxied).toContain(name);
    }
  });

  it('lets the worker delete what nginx-rtmp records: same volume, same path, same uid', async () => {
    const recordings = '/var/lib/streamhub/recordings';
    expect(compose.services.worker.volumes).toContain(`recordings:${recordings}`);
    expect(compose.services['nginx-rtmp'].volumes).toContain(`recordings:${recordings}`);
    const { stdout: nginxConf } = await run(process.execPath, ['scripts/render-nginx-config.ts'], { cwd: root });
    expect(nginxConf).toContain(`record_path ${recordings};`);
    // nginx's workers run as `streamhub`, which the image creates with the uid and gid of `node`
    // (1000 in the official Node images), the user the worker runs as.
    expect(nginxConf).toMatch(/^user streamhub;$/m);
    expect(dockerfile).toContain('groupadd --gid 1000 streamhub');
    expect(dockerfile).toContain('useradd --uid 1000 --gid 1000');
    expect(dockerfile).toMatch(/FROM node:\S+ AS app[\s\S]*\nUSER node\n/);
    expect(dockerfile).toContain(`chown -R streamhub:streamhub /var/lib/streamhub/hls ${recordings}`);
  });

  it('lets the worker read the live HLS nginx-rtmp writes (live thumbnails): same volume, same path, read only', async () => {
    const hls = '/var/lib/streamhub/hls';
    expect(compose.services.worker.volumes).toContain(`live-hls:${hls}:ro`);
    expect(compose.services['nginx-rtmp'].volumes).toContain(`live-hls:${hls}`);
    const { stdout: nginxConf } = await run(process.execPath, ['scripts/render-nginx-config.ts'], { cwd: root });
    expect(nginxConf).toContain(`hls_path ${hls};`);
    // RTMP_HLS_DIR's default, which the worker reads when the compose file sets nothing.
    expect(parseConfig(environmentOf('worker')).rtmpHlsDir).toBe(hls);
  });

  it('gives every long-running service a health check and every named volume a declaration', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!oneShots.includes(name)) expect(service.healthcheck, name).toBeDefined();
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(path.join(root, source)), `${name} mounts ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name} uses ${source}`).toContain(source);
      }
    }
  });

  it('pins every third-party image to a version', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) expect(service.image, name).toMatch(/:[^:]*\d[^:]*$/);
      else expect(service.build, name).toBeDefined();
    }
  });

  it('builds our services from Dockerfile targets that exist, running files the build produces', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue;
      expect(dockerfile, name).toContain(` AS ${service.build.target}`);
      const command: string[] | undefined = service.command;
      const script = command?.find((part) => part.startsWith('dist/'));
      if (script) {
        const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
        expect(existsSync(path.join(root, source)), `${name} runs ${script}`).toBe(true);
      }
    }
  });

  it('configures our services only with variables StreamHub reads, and valid values', () => {
    for (const name of [...ourServices, 'nginx-rtmp']) {
      const env = environmentOf(name);
      for (const variable of Object.keys(env)) expect(configVariables, `${name}: ${variable}`).toContain(variable);
      if (ourServices.includes(name)) expect(() => parseConfig(env), name).not.toThrow();
    }
  });
});
