import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderNginxConfig, type NginxOptions } from '../../scripts/stack/nginx.ts';

const run = promisify(execFile);
const prefix = mkdtempSync(path.join(os.tmpdir(), 'nginx-conf-'));
afterAll(() => rmSync(prefix, { recursive: true, force: true }));

const options: NginxOptions = {
  prefix,
  hlsDir: path.join(prefix, 'hls'),
  recordingsDir: path.join(prefix, 'recordings'),
  listenHost: '127.0.0.1',
  rtmpPort: 19350,
  httpPort: 18080,
  controlPort: 18081,
  controlAllow: ['127.0.0.1'],
  apiUrl: 'http://127.0.0.1:3000',
  internalSecret: 'abc.DEF_123~-x',
  runAsUser: process.getuid?.() === 0 ? 'root' : undefined,
};

describe('nginx-rtmp configuration', () => {
  const conf = renderNginxConfig(options);

  it('sends every RTMP hook to the API with the secret', () => {
    for (const hook of ['on_publish', 'on_publish_done', 'on_record_done']) {
      const name = hook.replace('on_', '').replace('_', '-');
      expect(conf).toContain(`${hook} http://127.0.0.1:3000/internal/rtmp/${name}?secret=abc.DEF_123~-x;`);
    }
  });

  it('serves 2-second live HLS fragments and never RTMP playback', () => {
    expect(conf).toContain('hls_fragment 2s;');
    expect(conf).toContain(`hls_path ${options.hlsDir};`);
    expect(conf).toContain('deny play all;');
    expect(conf).toContain('listen 127.0.0.1:19350;');
    expect(conf).toContain('listen 127.0.0.1:18080;');
  });

  it('is accepted by the real nginx with the rtmp module', async () => {
    mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
    const file = path.join(prefix, 'nginx.conf');
    writeFileSync(file, conf);
    const { stderr } = await run('nginx', ['-t', '-p', prefix, '-c', file, '-e', path.join(prefix, 'error.log')]);
    expect(stderr).toContain('test is successful');
  });
});
