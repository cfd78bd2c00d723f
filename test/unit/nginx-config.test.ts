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

  it('asks the API about every live HLS file, with the secret, and caches each answer for 5 s per stream and token', () => {
    const hls = conf.slice(conf.indexOf('location /hls/'), conf.indexOf('location = /hls-access'));
    expect(hls).toContain('auth_request /hls-access;');
    expect(hls).toContain(`sub_filter '.ts' '.ts$hls_token_query';`);
    const access = conf.slice(conf.indexOf('location = /hls-access'));
    expect(access).toContain('internal;');
    expect(access).toContain('proxy_pass http://127.0.0.1:3000/internal/hls-access;');
    expect(access).toContain('proxy_set_header X-Internal-Secret "abc.DEF_123~-x";');
    expect(access).toContain('proxy_set_header X-Original-URI $request_uri;');
    expect(access).toContain('proxy_cache_key $hls_access_key;');
    expect(access).toContain('proxy_cache_valid 200 204 403 5s;');
    // Only a token of the playback shape is copied into the playlist's segment lines.
    expect(conf).toContain('"~^[0-9]{1,12}\\.[A-Za-z0-9_-]{43}$" "?token=$arg_token";');
    expect(conf).not.toContain('resolver');
  });

  it('looks the API up as it goes when given a resolver (the container image: Docker’s DNS)', () => {
    const withResolver = renderNginxConfig({ ...options, apiUrl: 'http://api:3000', resolver: '127.0.0.11' });
    expect(withResolver).toContain('resolver 127.0.0.11 valid=10s;');
    expect(withResolver).toContain('set $hls_access_url http://api:3000/internal/hls-access;');
    expect(withResolver).toContain('proxy_pass $hls_access_url;');
  });

  it('is accepted by the real nginx with the rtmp module', async () => {
    mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
    const file = path.join(prefix, 'nginx.conf');
    writeFileSync(file, conf);
    const { stderr } = await run('nginx', ['-t', '-p', prefix, '-c', file, '-e', path.join(prefix, 'error.log')]);
    expect(stderr).toContain('test is successful');
  });
});
