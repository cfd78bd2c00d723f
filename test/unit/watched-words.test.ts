import { describe, expect, it } from 'vitest';
import { findWatched, normalizeWatchText, type WatchedTerm } from '../../lib/moderation/watched-words.ts';

const terms: WatchedTerm[] = [
  { term: 'ass', level: 'hold', source: 'platform' },
  { term: 'free coins', level: 'block', source: 'platform' },
  { term: 'spoiler', level: 'block', source: 'channel' },
];

describe('watched words', () => {
  it('normalizes case, accents, look-alikes and punctuation', () => {
    expect(normalizeWatchText('  FRÉE  c0ins!!! ')).toBe('free coins');
    expect(normalizeWatchText('Sp@m')).toBe('spam');
  });

  it('matches whole words only: a listed word inside a longer word passes', () => {
    for (const benign of ['a classic pass', 'assassin creed', 'bass guitar', 'free coinsurance', 'spoilers']) expect(findWatched(benign, terms)).toBeUndefined();
    expect(findWatched('what an ASS', terms)).toMatchObject({ term: 'ass', level: 'hold' });
    expect(findWatched('get FREE c0ins now', terms)).toMatchObject({ term: 'free coins', level: 'block' });
  });

  it('reports the most severe hit: block before hold', () => {
    expect(findWatched('ass spoiler', terms)).toMatchObject({ term: 'spoiler', level: 'block', source: 'channel' });
  });
});
