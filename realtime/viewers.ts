import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import type { KV } from 'nats';
import type { Db } from '../lib/db.ts';
import { LIVE_STATUSES } from '../lib/streams.ts';
import type { Logger } from '../lib/logger.ts';
import type { Client, Hub } from './hub.ts';

/**
 * How an anonymous viewer is counted: once per client address (its /64 for IPv6), so opening
 * more sockets or inventing device ids adds nobody. The address is stored and shared only as
 * a keyed hash, the same on every gateway so unique viewers are deduplicated across them.
 */
export function anonymousViewerKey(secret: string, addressHolder: string): string {
  return `a:${createHmac('sha256', secret).update(`viewer:${addressHolder}`).digest('base64url').slice(0, 22)}`;
}

export const userViewerKey = (userId: string) => `u:${userId}`;

/**
 * The stream's concurrent viewers for the current minute (by the database clock), if it is on
 * air: the first gateway to write a minute's sample wins, the others hold the same sum. Creator
 * analytics average a broadcast's samples (README, "Creator analytics").
 */
export async function recordViewerSample(db: Db, streamId: string, viewers: number): Promise<void> {
  await sql`
    insert into stream_viewer_samples (stream_id, minute_start, viewers)
    select id, date_trunc('minute', now()), ${viewers}::int from streams where id = ${streamId} and status in (${sql.join(LIVE_STATUSES)})
    on conflict (stream_id, minute_start) do nothing`.execute(db);
}

/**
 * Viewer counts without a coordinator: every few seconds each gateway writes its own count
 * per stream (viewers deduplicated by user or address) to the NATS KV bucket, whose TTL makes
 * a crashed gateway's share vanish on its own, then sums every gateway's share, tells the
 * stream's local viewers, and stores current and peak viewers in Postgres (no workflow signals),
 * with a sample of the count once a minute.
 */
export function startViewerCounts(deps: {
  kv: KV;
  /** The bucket's keys, which `kv.keys()` cannot be trusted to list (lib/nats.ts bucketKeys). */
  keys: () => Promise<string[]>;
  db: Db;
  hub: Hub;
  gatewayId: string;
  intervalMs: number;
  logger: Logger;
}) {
  const { kv, hub, gatewayId } = deps;
  /**
   * Per stream this gateway has a share in: the count its sockets were last told and which
   * sockets heard it, and the viewers it has already recorded as seen while on air.
   */
  const streams = new Map<string, { count?: number; told: WeakSet<Client>; recorded: Set<string>; sampledMinute?: number }>();

  /** A new count goes to the whole room; an unchanged one only to sockets that joined since. */
  function announce(streamId: string, clients: Set<Client>, count: number): void {
    const state = streams.get(streamId)!;
    const frame = { type: 'viewers' as const, streamId, count };
    if (state.count === count) {
      const newcomers = new Set([...clients].filter((c) => !state.told.has(c)));
      if (newcomers.size) hub.toRoom(streamId, frame, { only: newcomers });
      for (const c of newcomers) state.told.add(c);
      return;
    }
    hub.toRoom(streamId, frame);
    state.count = count;
    state.told = new WeakSet(clients);
  }

  /**
   * Adds the viewers not yet recorded to the stream's unique viewers, if it is on air. The
   * primary key of stream_viewers makes this exact when gateways report the same viewer.
   */
  async function recordUniqueViewers(streamId: string, viewerKeys: Set<string>): Promise<void> {
    const seen = streams.get(streamId)!.recorded;
    const fresh = [...viewerKeys].filter((k) => !seen.has(k));
    if (!fresh.length) return;
    const { rows } = await sql<{ live: boolean }>`
      with live as (select id from streams where id = ${streamId} and status in (${sql.join(LIVE_STATUSES)})),
      inserted as (
        insert into stream_viewers (stream_id, viewer_key) select live.id, k from live, unnest(${fresh}::text[]) k
        on conflict do nothing returning 1),
      counted as (update streams set unique_viewers = unique_viewers + (select count(*) from inserted) where id in (select id from live) returning 1)
      select exists (select 1 from live) as live`.execute(deps.db);
    if (!rows[0]?.live) return;
    // Forgetting only costs re-inserts (the primary key keeps them exact).
    if (seen.size > 100_000) seen.clear();
    for (const key of fresh) seen.add(key);
  }

  /** Every other gateway's share per stream, in one pass over the bucket. */
  async function othersShares(): Promise<Map<string, number>> {
    const keys = (await deps.keys()).filter((key) => !key.endsWith(`.${gatewayId}`));
    const shares = new Map<string, number>();
    for (const entry of await Promise.all(keys.map((key) => kv.get(key)))) {
      if (entry?.operation !== 'PUT') continue;
      const streamId = entry.key.slice(0, entry.key.indexOf('.'));
      shares.set(streamId, (shares.get(streamId) ?? 0) + (Number(entry.string()) || 0));
    }
    return shares;
  }

  async function tick(): Promise<void> {
    const rooms = hub.rooms();
    const others = rooms.size ? await othersShares() : new Map<string, number>();
    for (const streamId of streams.keys()) {
      if (rooms.has(streamId)) continue;
      await kv.delete(`${streamId}.${gatewayId}`);
      streams.delete(streamId);
    }
    for (const [streamId, room] of rooms) {
      const viewerKeys = new Set([...room.clients].map((c) => c.viewerKey));
      const mine = viewerKeys.size;
      await kv.put(`${streamId}.${gatewayId}`, String(mine));
      if (!streams.has(streamId)) streams.set(streamId, { told: new WeakSet(), recorded: new Set() });
      await recordUniqueViewers(streamId, viewerKeys);
      const total = mine + (others.get(streamId) ?? 0);
      // Only a changed count is written (not a rewrite every tick); a stream that goes live with
      // its waiting viewers still gets its count, which skipping the statement would miss.
      await deps.db
        .updateTable('streams')
        .set((eb) => ({ current_viewers: total, peak_viewers: eb.fn('greatest', ['peak_viewers', eb.val(total)]) }))
        .where('id', '=', streamId)
        .where('status', 'in', LIVE_STATUSES)
        .where('current_viewers', '!=', total)
        .execute();
      const minute = Math.floor(Date.now() / 60_000);
      if (streams.get(streamId)!.sampledMinute !== minute) {
        await recordViewerSample(deps.db, streamId, total);
        streams.get(streamId)!.sampledMinute = minute;
      }
      announce(streamId, room.clients, total);
    }
  }

  let running = Promise.resolve();
  const timer = setInterval(() => {
    // One tick at a time: a slow NATS or database must not pile them up.
    running = running.then(tick).catch((err: unknown) => deps.logger.warn({ err }, 'viewer count tick failed'));
  }, deps.intervalMs);
  timer.unref();

  return {
    /** Stops counting and withdraws this gateway's shares at once (a clean shutdown). */
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
      for (const streamId of streams.keys()) await kv.delete(`${streamId}.${gatewayId}`).catch(() => {});
    },
  };
}
