import type { Db } from '../db.ts';
import { AppError } from '../errors.ts';
import { findWatched, type WatchedTerm, type WatchHit } from './watched-words.ts';

/** The platform's watched words and the channel owner's blocked terms (always `block`). */
export async function watchedTermsFor(db: Db, ownerId: string | null): Promise<WatchedTerm[]> {
  const platform = await db.selectFrom('watched_words').select(['term', 'level', 'reason', 'score']).execute();
  const channel = ownerId ? await db.selectFrom('channel_blocked_terms').select('term').where('owner_id', '=', ownerId).execute() : [];
  return [
    ...platform.map((w) => ({ term: w.term, level: w.level, source: 'platform' as const, reason: w.reason, score: w.score })),
    ...channel.map((c) => ({ term: c.term, level: 'block' as const, source: 'channel' as const })),
  ];
}

export interface HeldField {
  field: string;
  hit: WatchHit;
}

/**
 * Screens a title and description: a `block` term (platform or channel) refuses the request
 * with 400 naming the field; `hold` terms let it through and come back, one per field, for the
 * caller to file as automatic signals (a case a moderator reviews).
 */
export async function screenWatched(db: Db, ownerId: string, fields: Record<string, string | undefined>): Promise<HeldField[]> {
  const terms = await watchedTermsFor(db, ownerId);
  if (!terms.length) return [];
  const held: HeldField[] = [];
  for (const [field, text] of Object.entries(fields)) {
    const hit = text ? findWatched(text, terms) : undefined;
    if (hit?.level === 'block') {
      const reason = 'watched_word_blocked';
      throw new AppError('validation_failed', `${field} contains a term ${hit.source === 'channel' ? 'this channel' : 'the platform'} does not allow`, [{ field, message: reason, reason, source: hit.source }]);
    }
    if (hit) held.push({ field, hit });
  }
  return held;
}
