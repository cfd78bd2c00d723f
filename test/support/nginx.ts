import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../../lib/async.ts';
import { renderNginxConfig } from '../../scripts/stack/nginx.ts';
import { freePort } from './ports.ts';

export interface TestNginx {
  rtmpUrl: string;
  relayUrl: string;
  hlsUrl: string;
  controlUrl: string;
  recordingsDir: string;
  hlsDir: string;
  /** The last lines of nginx's error.log (warn and worse): a crashed worker shows here. */
  errorLog(): string;
  stop(): Promise<void>;
}

/** A private nginx-rtmp whose hooks call `apiUrl`, on free ports, with the stack's own config renderer. */
export async function startNginx(apiUrl: string, internalSecret: string): Promise<TestNginx> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'nginx-rtmp-'));
  for (const dir of ['tmp', 'hls', 'recordings']) mkdirSync(path.join(prefix, dir), { recursive: true });
  const [rtmpPort, httpPort, controlPort] = [await freePort(), await freePort(), await freePort()];
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    renderNginxConfig({
      prefix,
      hlsDir: path.join(prefix, 'hls'),
      recordingsDir: path.join(prefix, 'recordings'),
      listenHost: '127.0.0.1',
      rtmpPort,
      httpPort,
      controlPort,
      controlAllow: ['127.0.0.1'],
      apiUrl,
      internalSecret,
      runAsUser: process.getuid?.() === 0 ? 'root' : undefined,
    }),
  );
  const errorLogPath = path.join(prefix, 'error.log');
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-c', conf, '-e', errorLogPath], { stdio: 'ignore' });
  const wholeErrorLog = () => {
    try {
      return readFileSync(errorLogPath, 'utf8').trimEnd();
    } catch {
      return '(no error.log)';
    }
  };
  const tail = (log: string) => log.split('\n').slice(-40).join('\n');
  const errorLog = () => tail(wholeErrorLog());
  const http = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${http}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`nginx-rtmp did not start (see ${prefix}/error.log)`);
    await sleep(100);
  }
  return {
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
    relayUrl: `rtmp://127.0.0.1:${rtmpPort}/broadcast`,
    hlsUrl: `${http}/hls`,
    controlUrl: `http://127.0.0.1:${controlPort}/control`,
    recordingsDir: path.join(prefix, 'recordings'),
    hlsDir: path.join(prefix, 'hls'),
    errorLog,
    async stop() {
      // A worker nginx restarted loses its encoders silently (no publish-done): say so in the
      // run's output, since the directory with the log is removed below.
      // The whole log is searched: a crash early in a long file is out of the tail by now.
      const log = wholeErrorLog();
      if (/exited on signal/.test(log)) console.error(`nginx-rtmp lost a worker during this file; its error.log ends:\n${tail(log)}`);
      // Fast shutdown: a graceful one (SIGQUIT) waits for every RTMP connection to end.
      const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(forced);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/**
 * An encoder publishing a live test pattern with audio, like OBS would (2 s keyframes): until
 * it is stopped, or for `seconds` of media, after which it ends its publish as OBS's "Stop" does.
 */
export function publishTestPattern(rtmpUrl: string, key: string, seconds?: number): ChildProcess {
  const encoder = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
      ...(seconds === undefined ? [] : ['-t', String(seconds)]),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-f', 'flv', `${rtmpUrl}/${key}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Read, so a chatty encoder never blocks on a full pipe; the tail explains a hang.
  let log = '';
  encoder.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-2000)));
  encoderLogs.set(encoder, () => log);
  return encoder;
}

const encoderLogs = new WeakMap<ChildProcess, () => string>();

/** The last lines an encoder of publishTestPattern printed (errors only). */
export const encoderLog = (encoder: ChildProcess): string => encoderLogs.get(encoder)?.() ?? '';
