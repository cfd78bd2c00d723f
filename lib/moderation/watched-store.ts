import type { Db } from '../db.ts';
import { AppError } from '../errors.ts';
import { findWatched, type WatchedTerm, type WatchHit } from './watched-words.ts';

/** The platform's watched words and the channel owner's blocked terms (always `block`). */
export async function watchedTermsFor(db: Db, ownerId: string | null): Promise<WatchedTerm[]> {
  const platform = await db.selectFrom('watched_words').select(['term', 'level']).execute();
  const channel = ownerId ? await db.selectFrom('channel_blocked_terms').select('term').where('owner_id', '=', ownerId).execute() : [];
  return [...platform.map((w) => ({ term: w.term, level: w.level, source: 'platform' as const })), ...channel.map((c) => ({ term: c.term, level: 'block' as const, source: 'channel' as const }))];
}


/** 400 naming the field and the term's level and list when a title or description holds a watched term. */
export async function refuseWatched(db: Db, ownerId: string, fields: Record<string, string | undefined>): Promise<void> {
  const terms = await watchedTermsFor(db, ownerId);
  if (!terms.length) return;
  for (const [field, text] of Object.entries(fields)) {
    const hit = text ? findWatched(text, terms) : undefined;
    if (hit) {
      const reason = hit.level === 'block' ? 'watched_word_blocked' : 'watched_word_held';
      throw new AppError('validation_failed', `${field} contains a term ${hit.source === 'channel' ? 'this channel' : 'the platform'} does not allow`, [{ field, message: reason, reason, source: hit.source }]);
    }
  }
}
