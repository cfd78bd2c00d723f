import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { loadHits, searchPage, searchTerms, type SearchFilter } from '../api/search/service.ts';
import { createDb, type Db } from '../lib/db.ts';
import { migrateToLatest } from '../lib/migrate.ts';
import { dropDatabase, ensureDatabase } from '../scripts/stack/provision.ts';
import { stackEnvironment } from '../scripts/stack/environment.ts';
import { insertBulkUsers } from '../test/support/fixtures.ts';
import { percentile } from './lib/measure.ts';

// GET /search's Postgres side (the ranking query of each tier it needs and the loading of a
// page of hits: searchPage + loadHits, no HTTP) over N generated videos, one query at a time.
// Videos are made set-based: titles of 3–7, tags of 2–5 and descriptions of 10–40 words
// drawn from ~4,700 words (300 real ones, then made-up ones) by Zipf's law, so a few words are
// in thousands of videos and most in a few hundred; 10 % of them are not public or not ready.
// The query mix: whole words (common and rare, one and two), as-you-type prefixes (3–5
// characters), and typos (two letters swapped). Baselines in the same run: a primary-key
// SELECT (the floor of any query) and `title ILIKE '%word%'` (what search costs without
// indexes). Runs in a scratch database of its own, dropped at the end.
// Needs Postgres of the local stack. Usage: npm run bench -- search [videos=100000] [queries=300]

const say = (line = '') => process.stdout.write(`${line}\n`);

const WORDS = (
  'game gaming minecraft fortnite speedrun tutorial guide review unboxing live stream music guitar piano drums cover song ' +
  'lesson beginner advanced tips tricks how build craft survival creative episode part season finale highlights best ' +
  'funny moments reaction challenge vlog travel japan tokyo paris italy food cooking recipe pasta pizza bread baking ' +
  'cake chocolate coffee breakfast dinner healthy vegan workout fitness yoga running cycling football soccer basketball ' +
  'tennis chess strategy puzzle history science space rocket physics chemistry biology math coding javascript python ' +
  'rust linux server setup desk camera photography drone landscape ocean mountain hiking camping fishing garden plants ' +
  'flowers dog cat puppy kitten animals wildlife nature rain sleep relaxing ambient lofi jazz piano classical orchestra ' +
  'concert festival dance tiktok shorts news politics economy market stocks crypto bitcoin invest money budget saving ' +
  'car engine repair restoration motorcycle truck electric battery solar energy house renovation kitchen bathroom ' +
  'woodworking metal welding knife sword medieval castle fantasy dragon anime manga drawing painting watercolor sketch ' +
  'portrait makeup fashion style outfit hair skincare review comparison versus ranking top ten worst ultimate complete ' +
  'full movie trailer scene behind scenes interview podcast talk show comedy standup prank story documentary mystery'
).split(' ');

// Thousands of rarer made-up words behind the real ones, as a real catalogue has.
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ra', 'to', 'su', 'vi', 'de', 'po', 'li', 'an', 'or', 'es', 'ul', 'ba'];
const made = SYLLABLES.flatMap((a) => SYLLABLES.flatMap((b) => [a + b, ...SYLLABLES.map((c) => a + b + c)]));
const VOCABULARY = [...new Set([...WORDS, ...made])];

/** Two adjacent letters swapped in the middle of the word: "minecraft" → "minecarft". */
const typo = (word: string) => {
  const i = Math.floor(word.length / 2);
  return word.slice(0, i - 1) + word[i] + word[i - 1] + word.slice(i + 1);
};

/** Returns the ids of the categories the videos are in. */
export async function generateVideos(db: Db, count: number): Promise<string[]> {
  const owners = await insertBulkUsers(db, 1000);
  const categories = await sql<{ id: string }>`
    insert into categories (name, slug) select 'Bench ' || s, 'bench-' || s from generate_series(1, 20) s returning id`.execute(db);
  // Word r (0-based) is drawn with probability ∝ 1 / (r + 50): Zipf's law for the words after
  // the 50 commonest (the stopwords a real text has), so the commonest word here is in about
  // 15 % of videos and the median one in about 1 %. `+ 0 * i` ties the aggregate to the inner
  // series: with outer columns only, it would aggregate the outer query.
  const words = (n: string) =>
    sql`(select string_agg(w[1 + least(cardinality(w) - 1, floor(50 * power((cardinality(w) + 50) / 50.0, random()) - 50)::int) + 0 * i], ' ')
         from generate_series(1, ${sql.raw(n)}) g(i))`;
  await sql`
    insert into videos (owner_id, title, description, tags, category_id, view_count, source, source_key, status, visibility,
                        duration_seconds, ready_at, moderation_hidden_at, created_at)
    select o[1 + s % cardinality(o)], initcap(${words('3 + s % 5')}), ${words('10 + s % 31')},
           string_to_array(${words('2 + s % 4')}, ' '), c[1 + (s / 7) % cardinality(c)], floor(power(random(), 4) * 1000000)::bigint,
           'upload', 'bench/' || s, case when s % 20 = 0 then 'processing' else 'ready' end,
           case when s % 20 = 1 then 'private' when s % 20 = 2 then 'unlisted' else 'public' end,
           60 + s % 3600, now(), case when s % 50 = 3 then now() end, now() - (s || ' minutes')::interval
    from generate_series(1, ${count}) s,
         (select ${VOCABULARY}::text[] as w, ${owners}::uuid[] as o, ${categories.rows.map((r) => r.id)}::uuid[] as c) fixed`.execute(db);
  await sql`analyze videos`.execute(db);
  await sql`analyze users`.execute(db);
  return categories.rows.map((r) => r.id);
}

export async function benchSearch(args: string[]): Promise<void> {
  const [count = 100_000, queries = 300] = args.map(Number);
  if (!(Number.isInteger(count) && count > 0 && Number.isInteger(queries) && queries > 0)) throw new Error('Usage: npm run bench -- search [videos] [queries]');
  const { config } = stackEnvironment();
  const url = new URL(config.postgres.url);
  url.pathname = `/streamhub_bench_search_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(url.toString());
  const db = createDb({ url: url.toString(), poolMax: 2, applicationName: 'bench-search' });
  try {
    await migrateToLatest(db);
    process.stdout.write(`${count} videos: generating… `);
    const started = performance.now();
    const [categoryId] = await generateVideos(db, count);
    say(`${((performance.now() - started) / 1000).toFixed(1)} s`);

    const rare = WORDS.slice(-60);
    const pick = <T>(list: readonly T[], i: number) => list[(i * 7919) % list.length]!;
    const mixes: Record<string, (i: number) => string> = {
      'whole word (real, any)': (i) => pick(WORDS, i),
      'whole word (10 commonest)': (i) => pick(WORDS.slice(0, 10), i),
      'whole word (rare)': (i) => pick(rare, i),
      'two words': (i) => `${pick(WORDS, i)} ${pick(WORDS, i + 13)}`,
      'prefix (3–5 chars)': (i) => pick(WORDS, i).slice(0, 3 + (i % 3)),
      'typo (letters swapped)': (i) => typo(pick(WORDS.filter((w) => w.length >= 6), i)),
    };
    const filter: SearchFilter = { type: 'all', sort: 'relevance' };
    const timed = async (n: number, task: (i: number) => Promise<number>) => {
      const ms: number[] = [];
      let hits = 0;
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        hits += await task(i);
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      return { p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms.at(-1)!, hits: hits / n };
    };
    const searchOnce = async (q: string, f: SearchFilter = filter) => {
      const { rows } = await searchPage(db, searchTerms(q)!, f, 20);
      await loadHits(db, rows);
      return rows.length;
    };
    await timed(20, (i) => searchOnce(pick(WORDS, i))); // warm-up

    const someIds = (await db.selectFrom('videos').select('id').limit(1000).execute()).map((r) => r.id);
    const results: [string, Awaited<ReturnType<typeof timed>>][] = [];
    results.push([
      'baseline: SELECT by primary key',
      await timed(queries, async (i) => (await db.selectFrom('videos').select(['id', 'title']).where('id', '=', pick(someIds, i)).execute()).length),
    ]);
    const ilike = Math.min(queries, 50);
    results.push([
      `baseline: title ILIKE '%word%' (${ilike} runs)`,
      await timed(ilike, async (i) => {
        const { rows } = await sql`select id from videos where title ilike ${`%${pick(WORDS, i)}%`} and status = 'ready' and visibility = 'public'
          and deleted_at is null and moderation_hidden_at is null order by view_count desc limit 20`.execute(db);
        return rows.length;
      }),
    ]);
    for (const [label, q] of Object.entries(mixes)) results.push([`search: ${label}`, await timed(queries, (i) => searchOnce(q(i)))]);
    results.push(['search: whole word, sort=newest', await timed(queries, (i) => searchOnce(pick(WORDS, i), { type: 'all', sort: 'newest' }))]);
    results.push(['search: whole word, type=video, category', await timed(queries, (i) => searchOnce(pick(WORDS, i), { type: 'video', sort: 'relevance', categoryId: categoryId! }))]);

    const all = results.filter(([label]) => label.startsWith('search')).flatMap(([, r]) => [r.p95]);
    say(`\nGET /search in Postgres over ${count} videos (1,000 channels), one query at a time, page of 20, type=all unless said`);
    say(`${'what'.padEnd(48)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'max ms'.padStart(9)}${'hits'.padStart(7)}`);
    for (const [label, r] of results) say(`${label.padEnd(48)}${r.p50.toFixed(2).padStart(9)}${r.p95.toFixed(2).padStart(9)}${r.max.toFixed(1).padStart(9)}${r.hits.toFixed(1).padStart(7)}`);
    say(`worst search p95: ${Math.max(...all).toFixed(2)} ms (target ≤ 50 ms)`);
  } finally {
    await db.destroy();
    await dropDatabase(url.toString());
  }
}
