// Watched words (like Twitch AutoMod's lists): platform terms an admin keeps, each with a
// level, and blocked terms a creator keeps for their own channel. Pure matching; the lists
// live in Postgres (lib/moderation/watched-store.ts).

export const watchLevels = ['hold', 'block'] as const;
export type WatchLevel = (typeof watchLevels)[number];

export interface WatchedTerm {
  /** Normalized (normalizeWatchText), one or more words. */
  term: string;
  level: WatchLevel;
  source: 'platform' | 'channel';
  /** Platform terms: the policy reason and score (1–100) an automatic signal from it carries. */
  reason?: string;
  score?: number;
}

export interface WatchHit extends WatchedTerm {}

// The usual disguises: digits and symbols standing in for letters.
const LOOKALIKES: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

/**
 * Lower case, compatibility-folded, accents dropped, look-alike characters mapped, and every
 * run of other characters one space: "Sp@m!!" and "spam" are the same words, and a term only
 * ever matches whole words, so "class" does not contain "ass".
 */
export function normalizeWatchText(text: string): string {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
  const mapped = [...folded].map((c) => LOOKALIKES[c] ?? c).join('');
  return mapped.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** The most severe term found in `text` as whole words (block before hold), or undefined. */
export function findWatched(text: string, terms: readonly WatchedTerm[]): WatchHit | undefined {
  const padded = ` ${normalizeWatchText(text)} `;
  let hit: WatchHit | undefined;
  for (const term of terms) {
    if (!term.term || !padded.includes(` ${term.term} `)) continue;
    if (term.level === 'block') return term;
    hit ??= term;
  }
  return hit;
}
