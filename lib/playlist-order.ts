import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

// Play order of playlist items as fractional index keys: an item placed between two others
// gets a key that sorts between theirs, so a move or an insert writes one row. Keys compare
// byte by byte (Postgres: collate "C"). Pure.

/** Items one playlist may hold, watch later included. */
export const MAX_PLAYLIST_ITEMS = 5000;
/** Playlists one user may create (watch later not counted). */
export const MAX_PLAYLISTS_PER_USER = 200;
/**
 * Inserting again and again into the same gap lengthens keys (about one character per six
 * inserts); past this length the playlist is respaced: one statement gives every item a short
 * key in the same order. Rare, and bounded by MAX_PLAYLIST_ITEMS rows.
 */
export const MAX_KEY_LENGTH = 48;

/** A key strictly between `lower` and `upper` (null: the start or the end). */
export function keyBetween(lower: string | null, upper: string | null): string {
  return generateKeyBetween(lower, upper);
}

/** `count` short, evenly spread keys in ascending order (a respacing). */
export function evenKeys(count: number): string[] {
  return generateNKeysBetween(null, null, count);
}

export type Placement = { before: string } | { after: string } | { at: 'end' };

/**
 * The neighbours of a new place for an item in `order` (the other items' keys, ascending,
 * the moved item itself left out): the key just below and just above. `anchorIndex` is the
 * index in `order` of the item named by `before`/`after`.
 */
export function gapAround(order: readonly string[], anchorIndex: number, side: 'before' | 'after'): [string | null, string | null] {
  return side === 'before' ? [order[anchorIndex - 1] ?? null, order[anchorIndex]!] : [order[anchorIndex]!, order[anchorIndex + 1] ?? null];
}

/** Bytewise comparison, the order Postgres' "C" collation gives. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
