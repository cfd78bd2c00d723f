import net from 'node:net';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { connect } from 'nats';
import pg from 'pg';

// Protocol-level readiness checks: each answers "is the right kind of server ready here?"
// so that a port taken by some other program is told apart from our service.

export function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function httpOk(url: string, expectBody?: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    return expectBody === undefined || (await res.text()).includes(expectBody);
  } catch {
    return false;
  }
}

export async function postgresReady(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function natsReady(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
    try {
      await nc.jetstreamManager(); // fails when JetStream is off
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

export async function temporalReady(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

export async function mongoReady(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * stripe-mock answers any well-formed API call with a fixture and names itself in a header;
 * the key only has to look like a test key (sk_test_<no more underscores>).
 */
export async function stripeMockReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/v1/balance', baseUrl), {
      headers: { authorization: 'Bearer sk_test_streamhubprobe' },
      signal: AbortSignal.timeout(1000),
    });
    await res.body?.cancel();
    return res.ok && res.headers.has('stripe-mock-version');
  } catch {
    return false;
  }
}

/** mailpit's HTTP API describes itself; the SMTP port is checked by the caller's port probe. */
export async function mailpitReady(uiBaseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/api/v1/info', uiBaseUrl), { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    const info = (await res.json()) as { Version?: unknown };
    return typeof info.Version === 'string';
  } catch {
    return false;
  }
}

export const minioReady = (endpoint: string) => httpOk(`${endpoint}/minio/health/live`);
export const nginxReady = (httpBase: string) => httpOk(`${httpBase}/healthz`, 'streamhub-nginx');
