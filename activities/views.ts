import { heartbeat } from '@temporalio/activity';
import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';

const BATCH = 10_000;

export interface ViewRollupResult {
  /** Counted views added to videos.view_count by this run. */
  views: number;
  /** Viewers whose window had passed, forgotten (their next heartbeat counts anyway). */
  expiredViewers: number;
}

/**
 * Folds up to `batch` pending counted views into their videos' view_count, in one statement:
 * the rows are flipped to `rolled_up` and the counters raised in the same transaction, so a
 * row is added exactly once however often this runs. Runs are serialized by an advisory lock
 * (the Schedule skips overlapping runs; this also covers a run by hand): two runs raising the
 * same videos' counters in different orders could otherwise deadlock. Answers how many it folded.
 */
export async function foldPendingViews(db: Db, batch = BATCH): Promise<number> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext('views-rollup'))`.execute(tx);
    const { rows } = await sql<{ folded: number }>`
      with picked as (
        select id from video_views where not rolled_up order by id limit ${batch}
      ), flipped as (
        update video_views w set rolled_up = true from picked where w.id = picked.id and not w.rolled_up returning w.video_id
      ), sums as (
        select video_id, count(*) as n from flipped group by video_id
      ), bumped as (
        update videos set view_count = view_count + sums.n from sums where videos.id = sums.video_id
      )
      select count(*)::int as folded from flipped`.execute(tx);
    return rows[0]!.folded;
  });
}

export function createViewActivities(deps: { db: Db }) {
  return {
    /** Folds every pending view (in batches), then forgets viewers whose window has passed. */
    async rollUpViews(input: { windowSeconds: number }): Promise<ViewRollupResult> {
      let views = 0;
      for (;;) {
        const folded = await foldPendingViews(deps.db);
        views += folded;
        heartbeat(views);
        if (folded < BATCH) break;
      }
      let expiredViewers = 0;
      for (;;) {
        const result = await sql`
          delete from video_viewers where ctid in (
            select ctid from video_viewers where last_counted_at < now() - make_interval(secs => ${input.windowSeconds}) limit ${BATCH})`.execute(deps.db);
        const deleted = Number(result.numAffectedRows ?? 0);
        expiredViewers += deleted;
        heartbeat(views + expiredViewers);
        if (deleted < BATCH) return { views, expiredViewers };
      }
    },
  };
}

export type ViewActivities = ReturnType<typeof createViewActivities>;
