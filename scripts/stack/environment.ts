import { z } from 'zod';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import path from 'node:path';
import { stackDir } from './paths.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import type { StackPorts } from './services.ts';

/** stripe-mock's own default port (DESIGN.md §2). */
export const STRIPE_MOCK_DEFAULT_PORT = 12111;

const port = z.coerce.number().int().min(1).max(65535);
const stackPortsSchema = z.object({
  TEMPORAL_UI_PORT: port.default(8233),
  RTMP_PORT: port.default(1935),
  HLS_HTTP_PORT: port.default(8080),
  RTMP_CONTROL_PORT: port.default(8081),
  MINIO_CONSOLE_PORT: port.default(9001),
  // mailpit's web UI and HTTP API (its SMTP port is SMTP_URL's).
  MAILPIT_UI_PORT: port.default(8025),
});

export interface StackEnvironment {
  /** Environment for every process the stack starts: the caller's env over generated secrets. */
  env: Record<string, string | undefined>;
  config: Config;
  ports: StackPorts;
}

/** The local stack's settings: generated secrets as defaults, anything the caller set wins. */
export function stackEnvironment(overrides: Record<string, string> = {}): StackEnvironment {
  const localDefaults = {
    // The SDK's notice about Node 22 is for whoever picks the production runtime, not for every local start.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // stripe-mock, which the stack starts; an empty value means Stripe's own API.
    STRIPE_API_BASE_URL: `http://127.0.0.1:${STRIPE_MOCK_DEFAULT_PORT}`,
    // mailpit, which the stack starts; the mail it takes is read at http://localhost:8025.
    SMTP_URL: 'smtp://127.0.0.1:1025',
  };
  const given = { ...localDefaults, ...loadOrCreateSecrets(), ...processEnv(), ...overrides };
  const p = stackPortsSchema.parse(given);
  // Where the API and workers reach the local nginx-rtmp follows its ports.
  const nginxDefaults = {
    RTMP_RELAY_URL: `rtmp://127.0.0.1:${p.RTMP_PORT}/broadcast`,
    RTMP_CONTROL_URL: `http://127.0.0.1:${p.RTMP_CONTROL_PORT}/control`,
    RTMP_RECORDINGS_DIR: path.join(stackDir, 'nginx', 'recordings'),
    RTMP_HLS_DIR: path.join(stackDir, 'nginx', 'hls'),
  };
  const env = { ...nginxDefaults, ...given };
  const config = parseConfig(env);
  return {
    env,
    config,
    ports: { temporalUi: p.TEMPORAL_UI_PORT, rtmp: p.RTMP_PORT, hlsHttp: p.HLS_HTTP_PORT, rtmpControl: p.RTMP_CONTROL_PORT, minioConsole: p.MINIO_CONSOLE_PORT, mailpitUi: p.MAILPIT_UI_PORT },
  };
}
