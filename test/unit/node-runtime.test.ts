import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// StreamHub ships and tests on one Node major: package.json `engines`, the Docker images, the
// release scripts/bootstrap.sh installs, and the Node this suite (and what it starts) runs on.

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};
const pinned = /^NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(readFileSync(path.join(root, 'scripts/service-versions.env'), 'utf8'));
const major = pinned?.[1];
const majorOf = (version: string) => version.trim().replace(/^v/, '').split('.')[0];

describe('Node runtime', () => {
  it('is one major everywhere it is named: engines, Dockerfile, the release bootstrap installs', () => {
    expect(major).toBe('24');
    expect(pkg.engines.node).toBe(`^${major}.11.0`);
    const bases = [...readFileSync(path.join(root, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\S+) AS (\S+)$/gm)];
    expect(bases.map(([, tag, stage]) => `${stage}: ${tag}`)).toEqual([`build: ${major}-bookworm-slim`, `app: ${major}-bookworm-slim`]);
  });

  it('runs this suite on that major (npm test starts vitest through scripts/with-node)', () => {
    expect(majorOf(process.version), `vitest runs on ${process.version}; use npm test or scripts/with-node npx vitest …`).toBe(major);
  });

  it('hands that Node to every child that starts `node` by name (tsx, vitest, npm scripts)', async () => {
    const { stdout } = await run('node', ['-p', 'process.version'], { env: process.env });
    expect(majorOf(stdout)).toBe(major);
  });

  it('puts that Node first on PATH in scripts/with-node, whatever node the machine has first', async () => {
    // The machine's own directories first, as a shell outside `npm test` has them.
    const machinePath = ['/usr/local/bin', '/usr/bin', '/bin', ...process.env.PATH!.split(':').filter((dir) => !dir.includes('/node-v'))].join(':');
    const { stdout } = await run(path.join(root, 'scripts/with-node'), ['node', '-p', 'process.version'], {
      env: { ...process.env, PATH: machinePath },
    });
    expect(majorOf(stdout)).toBe(major);
  });

  it('type-checks and lints before the suite, under that Node, after the bootstrap', () => {
    expect(pkg.scripts.test).toBe('bash scripts/bootstrap.sh --browser && scripts/with-node npm run -s test:run');
    expect(pkg.scripts['test:run']!.split(' && ')).toEqual(['npm run -s lint', 'vitest run']);
    expect(pkg.scripts.lint!.split(' && ')).toEqual(['tsc --noEmit', 'tsc -p web', 'tsx scripts/lint.ts']);
    expect(pkg.scripts.start).toBe('bash scripts/bootstrap.sh && scripts/with-node tsx scripts/stack.ts start');
  });
});
