import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { normalizeWatchText, watchLevels } from '../../lib/moderation/watched-words.ts';
import { reportReasons } from '../../workflows/plans/moderation.ts';
import { currentUser, requireRole, signedIn } from '../middleware/auth.ts';
import { enveloped, errorResponses, jsonBody, ok } from '../responses.ts';
import { createRouter } from '../router.ts';

const MAX_CHANNEL_TERMS = 500;

/** A term as stored: normalized, so "Sp@m" and "spam" are one entry and match the same words. */
const termSchema = z
  .string()
  .max(100)
  .transform((raw) => normalizeWatchText(raw))
  .refine((t) => t.length > 0, 'must contain a letter or digit');

const watchedWordSchema = z
  .object({
    term: z.string(),
    level: z.enum(watchLevels),
    reason: z.enum(reportReasons).openapi({ description: 'The policy reason of the automatic signal a `hold` match files' }),
    score: z.number().int().min(1).max(100).openapi({ description: 'How sure a match is (1–100): from 50 it counts toward priority as its reason, from 90 with minor_safety, illegal or violence it triggers the interim measure' }),
    createdAt: z.string(),
  })
  .openapi('WatchedWord');
type WatchedWordRow = { term: string; level: (typeof watchLevels)[number]; reason: string; score: number; created_at: Date };
const wordView = (r: WatchedWordRow) => ({ term: r.term, level: r.level, reason: r.reason as (typeof reportReasons)[number], score: r.score, createdAt: r.created_at.toISOString() });

/** `/moderation/watched-words`: the platform's list (moderators read it, admins change it). */
export function watchedWordRoutes(deps: { db: Db }) {
  const { db } = deps;
  const router = createRouter();
  const readers = { security: [{ bearerAuth: [] }], middleware: [requireRole('moderator', 'admin')] };
  const admins = { security: [{ bearerAuth: [] }], middleware: [requireRole('admin')] };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/watched-words',
      tags: ['moderation'],
      summary: "The platform's watched words: `block` refuses a chat message, title or description, `hold` holds it (moderator, admin)",
      ...readers,
      responses: { 200: enveloped(z.array(watchedWordSchema), 'Every term'), ...errorResponses({ 401: 'Not signed in', 403: 'Not a moderator or admin' }) },
    }),
    async (c) => {
      const rows = await db.selectFrom('watched_words').select(['term', 'level', 'reason', 'score', 'created_at']).orderBy('term').execute();
      return c.json(ok(rows.map(wordView)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/watched-words',
      tags: ['moderation'],
      summary: 'Add a watched word or change its level, reason and score (admin); gateways apply it within 10 s',
      ...admins,
      request: { body: jsonBody(z.object({ term: termSchema, level: z.enum(watchLevels), reason: z.enum(reportReasons).default('other'), score: z.number().int().min(1).max(100).default(50) }).strict()) },
      responses: { 200: enveloped(watchedWordSchema, 'Stored'), ...errorResponses({ 400: 'Invalid term or level', 401: 'Not signed in', 403: 'Not an admin' }) },
    }),
    async (c) => {
      const { term, level, reason, score } = c.req.valid('json');
      const row = await db
        .insertInto('watched_words')
        .values({ term, level, reason, score, created_by: currentUser(c).userId })
        .onConflict((oc) => oc.column('term').doUpdateSet({ level, reason, score }))
        .returning(['term', 'level', 'reason', 'score', 'created_at'])
        .executeTakeFirstOrThrow();
      return c.json(ok(wordView(row)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/watched-words',
      tags: ['moderation'],
      summary: 'Remove a watched word (admin)',
      ...admins,
      request: { query: z.object({ term: termSchema }) },
      responses: { 200: enveloped(z.object({ term: z.string() }), 'Removed'), ...errorResponses({ 400: 'Invalid term', 401: 'Not signed in', 403: 'Not an admin', 404: 'Not on the list' }) },
    }),
    async (c) => {
      const { term } = c.req.valid('query');
      const gone = await db.deleteFrom('watched_words').where('term', '=', term).executeTakeFirst();
      if (!gone.numDeletedRows) throw new AppError('not_found', 'No such watched word');
      return c.json(ok({ term }), 200);
    },
  );
  return router;
}

/** `/users/me/blocked-terms`: a creator's own list for their channel (chat, stream and video titles). */
export function channelBlockedTermRoutes(deps: { db: Db }) {
  const { db } = deps;
  const router = createRouter();
  const listOf = async (ownerId: string) => (await db.selectFrom('channel_blocked_terms').select('term').where('owner_id', '=', ownerId).orderBy('term').execute()).map((r) => r.term);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me/blocked-terms',
      tags: ['moderation'],
      summary: "Your channel's blocked terms",
      ...signedIn,
      responses: { 200: enveloped(z.object({ terms: z.array(z.string()) }), 'The list'), ...errorResponses({ 401: 'Not signed in' }) },
    }),
    async (c) => c.json(ok({ terms: await listOf(currentUser(c).userId) }), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/me/blocked-terms',
      tags: ['moderation'],
      summary: "Replace your channel's blocked terms (at most 500): messages, titles and descriptions with one are refused",
      ...signedIn,
      request: { body: jsonBody(z.object({ terms: z.array(termSchema).max(MAX_CHANNEL_TERMS) }).strict()) },
      responses: { 200: enveloped(z.object({ terms: z.array(z.string()) }), 'The new list'), ...errorResponses({ 400: 'Invalid terms', 401: 'Not signed in' }) },
    }),
    async (c) => {
      const ownerId = currentUser(c).userId;
      const terms = [...new Set(c.req.valid('json').terms)];
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('channel_blocked_terms').where('owner_id', '=', ownerId).execute();
        if (terms.length) await tx.insertInto('channel_blocked_terms').values(terms.map((term) => ({ owner_id: ownerId, term }))).execute();
      });
      return c.json(ok({ terms: await listOf(ownerId) }), 200);
    },
  );
  return router;
}
