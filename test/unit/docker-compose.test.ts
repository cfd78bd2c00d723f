import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables, parseConfig } from '../../lib/config.ts';

const root = path.join(import.meta.dirname, '../..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, any>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const ourServices = ['provision', 'api', 'worker', 'realtime'];

// Compose interpolation as a deployer's .env would resolve it.
const deployEnv: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret',
  STREAMHUB_S3_SECRET: 'minio-secret-0123456789',
  STREAMHUB_INTERNAL_SECRET: 'internal-secret-0123456789',
  STREAMHUB_JWT_SECRET: 'jwt-secret-0123456789-0123456789-0123456789',
};
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g, (_, name: string, op: string, rest: string) => {
    if (deployEnv[name] !== undefined) return deployEnv[name]!;
    if (op === '-') return rest;
    throw new Error(`${name} is required: ${rest}`);
  });
}

describe('docker-compose.yml', () => {
  it('names every service of DESIGN.md §2', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['api', 'minio', 'mongo', 'nats', 'nginx-rtmp', 'postgres', 'provision', 'realtime', 'temporal', 'temporal-ui', 'worker'].sort(),
    );
  });

  it('gives every long-running service a health check and every named volume a declaration', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'provision') expect(service.healthcheck, name).toBeDefined();
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0]!;
        expect(Object.keys(compose.volumes), `${name} uses ${source}`).toContain(source);
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
    for (const name of ourServices) {
      const env = Object.fromEntries(
        Object.entries(compose.services[name].environment as Record<string, string>).map(([k, v]) => [k, interpolate(String(v))]),
      );
      for (const variable of Object.keys(env)) expect(configVariables, `${name}: ${variable}`).toContain(variable);
      expect(() => parseConfig(env), name).not.toThrow();
    }
  });
});
