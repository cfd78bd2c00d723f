import { sql } from 'kysely';
import type { Db } from '../lib/db.ts';
import { TRENDING_WEIGHTS, type TrendingRules } from '../lib/trending.ts';

export interface TrendingRecomputeResult {
  /** Videos with a score now. */
  scored: number;
  /** Videos that left the list (no activity in the window, or no longer public). */
  dropped: number;
}

/**
 * Recomputes every score in one set-based pass over the window's events (time indexes on
 * views, likes and comments), the formula of lib/trending.ts in SQL. Idempotent: a rerun at
 * the same `now` writes the same rows. Only ready public videos get a row; GET /trending
 * checks visibility again, so a video made private drops out at once, not at the next run.
 */
export async function recomputeTrending(db: Db, rules: TrendingRules, now: Date): Promise<TrendingRecomputeResult> {
  const since = new Date(now.getTime() - rules.windowHours * 3_600_000);
  const halfLifeSeconds = rules.halfLifeHours * 3600;
  return db.transaction().execute(async (tx) => {
    const scored = await sql<{ video_id: string }>`
      with events as (
        select video_id, viewed_at as at, ${TRENDING_WEIGHTS.view}::float8 as weight from video_views where viewed_at > ${since}
        union all
        select video_id, created_at, ${TRENDING_WEIGHTS.like}::float8 from video_likes where created_at > ${since}
        union all
        select video_id, created_at, ${TRENDING_WEIGHTS.comment}::float8 from comments
        where created_at > ${since} and deleted_at is null and moderation_hidden_at is null
      ), scores as (
        select video_id, sum(weight * power(2::float8, -greatest(0, extract(epoch from (${now}::timestamptz - at)))::float8 / ${halfLifeSeconds}::float8)) as score
        from events group by video_id
      )
      insert into video_trending (video_id, category_id, score, computed_at)
      select s.video_id, v.category_id, s.score, ${now}
      from scores s join videos v on v.id = s.video_id
      where s.score > 0 and v.status = 'ready' and v.visibility = 'public' and v.deleted_at is null and v.moderation_hidden_at is null
      on conflict (video_id) do update set category_id = excluded.category_id, score = excluded.score, computed_at = excluded.computed_at
      returning video_id`.execute(tx);
    const dropped = await tx.deleteFrom('video_trending').where('computed_at', '<>', now).executeTakeFirst();
    return { scored: scored.rows.length, dropped: Number(dropped.numDeletedRows) };
  });
}

export function createTrendingActivities(deps: { db: Db }) {
  return {
    /** The `trending` Schedule's work: every video's score recomputed from the window's events. */
    async recomputeTrendingScores(input: TrendingRules & { now: string }): Promise<TrendingRecomputeResult> {
      return recomputeTrending(deps.db, { halfLifeHours: input.halfLifeHours, windowHours: input.windowHours }, new Date(input.now));
    },
  };
}

export type TrendingActivities = ReturnType<typeof createTrendingActivities>;
