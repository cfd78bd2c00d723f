import { describe, expect, it } from 'vitest';
import { searchTerms } from '../../api/search/service.ts';

// How a query becomes full-text terms (README "Search" → Query).

describe('searchTerms', () => {
  it('keeps runs of letters and digits, lower-cased, and makes the last word a prefix from 3 characters on', () => {
    expect(searchTerms('  Minecraft  SURVIVAL ep12 ')).toEqual({ words: ['minecraft', 'survival', 'ep12'], tsquery: 'minecraft & survival & ep12:*', text: 'minecraft survival ep12' });
    expect(searchTerms('minec')?.tsquery).toBe('minec:*');
    expect(searchTerms('min')?.tsquery).toBe('min:*');
    expect(searchTerms('mi')?.tsquery).toBe('mi');
    expect(searchTerms('zebrafish mi')?.tsquery).toBe('zebrafish & mi');
    // Accents are folded by Postgres (unaccent), letters of any script are words.
    expect(searchTerms('Café Ünïcode Привет')?.words).toEqual(['café', 'ünïcode', 'привет']);
  });

  it('drops tsquery syntax and everything but words, and keeps at most 8 words', () => {
    expect(searchTerms("a & !b | c:* <-> 'd'")?.tsquery).toBe('a & b & c & d');
    expect(searchTerms('one two three four five six seven eight nine ten')?.words).toEqual(['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight']);
    expect(searchTerms('!!! ... ---')).toBeUndefined();
    expect(searchTerms('')).toBeUndefined();
  });
});
