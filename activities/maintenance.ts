import { heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';

export interface PurgeResult {
  readNotifications: number;
  revokedAccessTokens: number;
  authSessions: number;
  rateLimitCounters: number;
  /** Counted views already folded into view counts and older than the views' retention. */
  countedViews: number;
  /** Sign-in challenges (two-factor) that expired more than a day ago. */
  loginChallenges: number;
  /** Outbox messages sent more than SENT_EMAIL_RETENTION_DAYS ago. */
  sentEmails: number;
  /** Watch-time rows (per viewer and hour) older than the views' retention. */
  watchTime: number;
  /** Per-minute viewer samples of streams older than the views' retention. */
  viewerSamples: number;
}

/** How long a sent message's outbox row is kept (README, "Email"). */
export const SENT_EMAIL_RETENTION_DAYS = 30;

/** Deletes in bounded batches so a large backlog never holds long locks or one huge transaction. */
async function deleteInBatches(db: Db, statement: (batch: number) => ReturnType<typeof sql>, batch = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await statement(batch).execute(db);
    const deleted = Number(result.numAffectedRows ?? 0);
    total += deleted;
    heartbeat(total);
    if (deleted < batch) return total;
  }
}

export function createMaintenanceActivities(deps: { db: Db }) {
  return {
    /**
     * Retention: read notifications past their age, auth records that can no longer matter,
     * and counted views, watch time and viewer samples past the views' (`viewDays`; runs
     * scheduled before it existed keep them).
     */
    async purgeExpiredRecords(input: { readNotificationDays: number; viewDays?: number }): Promise<PurgeResult> {
      const { db } = deps;
      const readNotifications = await deleteInBatches(
        db,
        (n) => sql`delete from notifications where id in (
          select id from notifications where read_at < now() - make_interval(days => ${input.readNotificationDays}) limit ${n})`,
      );
      const revokedAccessTokens = await deleteInBatches(
        db,
        (n) => sql`delete from revoked_access_tokens where jti in (
          select jti from revoked_access_tokens where expires_at < now() limit ${n})`,
      );
      // Ended sessions are kept a while for account-security review, then go with their refresh tokens.
      const authSessions = await deleteInBatches(
        db,
        (n) => sql`delete from auth_sessions where id in (
          select id from auth_sessions
          where expires_at < now() - interval '30 days' or revoked_at < now() - interval '30 days' limit ${n})`,
      );
      const rateLimitCounters = await deleteInBatches(
        db,
        (n) => sql`delete from rate_limits where key in (
          select key from rate_limits where window_start < now() - interval '1 day' limit ${n})`,
      );
      // Only rows the rollup has folded into videos.view_count: deleting them changes no count.
      const countedViews =
        input.viewDays === undefined
          ? 0
          : await deleteInBatches(
              db,
              (n) => sql`delete from video_views where id in (
                select id from video_views where rolled_up and viewed_at < now() - make_interval(days => ${input.viewDays}) limit ${n})`,
            );
      const loginChallenges = await deleteInBatches(
        db,
        (n) => sql`delete from login_challenges where id in (
          select id from login_challenges where expires_at < now() - interval '1 day' limit ${n})`,
      );
      // A sent message's row only keeps a retried step from sending it again, and no step is
      // retried for weeks; unsent ones stay (their workflow may still send them).
      const sentEmails = await deleteInBatches(
        db,
        (n) => sql`delete from email_outbox where id in (
          select id from email_outbox where sent_at < now() - make_interval(days => ${SENT_EMAIL_RETENTION_DAYS}) limit ${n})`,
      );
      // Analytics' sources (README "Creator analytics"): the rollup only reads recent hours of them.
      const olderThanViews = (table: 'watch_time' | 'stream_viewer_samples', column: 'hour_start' | 'minute_start') =>
        input.viewDays === undefined
          ? 0
          : deleteInBatches(
              db,
              (n) => sql`delete from ${sql.table(table)} where ctid in (
                select ctid from ${sql.table(table)} where ${sql.ref(column)} < now() - make_interval(days => ${input.viewDays}) limit ${n})`,
            );
      const watchTime = await olderThanViews('watch_time', 'hour_start');
      const viewerSamples = await olderThanViews('stream_viewer_samples', 'minute_start');
      return { readNotifications, revokedAccessTokens, authSessions, rateLimitCounters, countedViews, loginChallenges, sentEmails, watchTime, viewerSamples };
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
