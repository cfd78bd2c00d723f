import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Config } from '../../lib/config.ts';
import { isUniqueViolation, type Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { GIFT_MAX_QUANTITY, LEADERBOARD_SIZE, leaderboardFrame } from '../../lib/gifts.ts';
import { toJsonAmount } from '../../lib/ledger/index.ts';
import { moneyRules } from '../../lib/money/config.ts';
import type { HttpMetrics } from '../../lib/metrics.ts';
import type { Nats } from '../../lib/nats.ts';
import type { Gift } from '../../lib/schema.ts';
import { currentUser, requireAuth, requireRole } from '../middleware/auth.ts';
import { localRateLimit } from '../middleware/rate-limit.ts';
import { createdOrReplayed, enveloped, errorResponses, idempotencyKeyHeader, jsonBody, ok, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { findStream } from '../streams/service.ts';
import { announceGift, createGiftSender, createLeaderboardReader, readLeaderboard } from './service.ts';

const coins = z.number().int().openapi({ description: 'Whole coins' });

const giftSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    coins: coins.openapi({ description: 'Price of one, in coins' }),
    imageUrl: z.string().nullable(),
    active: z.boolean(),
    sortOrder: z.number().int(),
  })
  .openapi('Gift');

const giftSendSchema = z
  .object({
    id: z.uuid(),
    streamId: z.uuid(),
    creatorId: z.uuid(),
    giftId: z.uuid(),
    quantity: z.number().int(),
    coins: coins.openapi({ description: 'What the send cost: price × quantity at the time' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('GiftSend');

const giftSentSchema = z.object({
  giftSend: giftSendSchema,
  wallet: z.object({ balance: coins.openapi({ description: 'Coins left in the wallet right after this send' }) }),
});

const leaderboardSchema = z
  .object({
    streamId: z.uuid(),
    top: z.array(z.object({ rank: z.number().int(), userId: z.uuid(), username: z.string(), coins })),
    version: z.number().int().openapi({ description: 'Grows whenever `top` changes (as in `leaderboard` frames)' }),
  })
  .openapi('Leaderboard');

const slugSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase letters, digits and single dashes');
const fields = {
  slug: slugSchema,
  name: z.string().trim().min(1).max(64),
  coins: z.number().int().min(1).max(1_000_000),
  imageUrl: z.url({ protocol: /^https?$/ }).max(2048).nullable(),
  active: z.boolean(),
  sortOrder: z.number().int().min(-1_000_000).max(1_000_000),
};

const toItem = (row: Gift) => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  coins: row.coins,
  imageUrl: row.image_url,
  active: row.active,
  sortOrder: row.sort_order,
});

const uniqueSlug = (err: unknown): never => {
  if (isUniqueViolation(err)) throw new AppError('conflict', 'A gift with this slug exists', [{ field: 'slug', message: 'already used' }]);
  throw err;
};

/** `/gifts`: the catalog, read by everyone and managed by admins. */
export function giftRoutes(deps: { db: Db }) {
  const { db } = deps;
  const router = createRouter();
  const admin = { security: [{ bearerAuth: [] }], middleware: [requireRole('admin')] };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['gifts'],
      summary: 'The gift catalog: active gifts in display order (admins may ask for retired ones too)',
      request: { query: z.object({ includeInactive: z.enum(['true', 'false']).default('false').openapi({ description: 'Admins only' }) }) },
      responses: {
        200: enveloped(z.array(giftSchema), 'Every gift, in display order'),
        ...errorResponses({ 400: 'Invalid query', 403: 'includeInactive without being an admin' }),
      },
    }),
    async (c) => {
      const includeInactive = c.req.valid('query').includeInactive === 'true';
      if (includeInactive && c.get('auth')?.role !== 'admin') throw new AppError('forbidden', 'Only admins see retired gifts');
      let query = db.selectFrom('gifts').selectAll();
      if (!includeInactive) query = query.where('active', '=', true);
      const rows = await query.orderBy('sort_order').orderBy('coins').orderBy('slug').execute();
      return c.json(ok(rows.map(toItem)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['gifts'],
      summary: 'Add a gift to the catalog (admin)',
      ...admin,
      request: {
        body: jsonBody(
          z
            .object({ slug: fields.slug, name: fields.name, coins: fields.coins, imageUrl: fields.imageUrl.optional(), active: fields.active.optional(), sortOrder: fields.sortOrder.optional() })
            .strict(),
        ),
      },
      responses: {
        201: enveloped(giftSchema, 'Created'),
        ...errorResponses({ 400: 'Invalid fields', 401: 'Not signed in', 403: 'Not an admin', 409: 'Slug taken' }),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const row = await db
        .insertInto('gifts')
        .values({
          slug: input.slug,
          name: input.name,
          coins: String(input.coins),
          image_url: input.imageUrl ?? null,
          ...(input.active === undefined ? {} : { active: input.active }),
          ...(input.sortOrder === undefined ? {} : { sort_order: input.sortOrder }),
        })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch(uniqueSlug);
      return c.json(ok(toItem(row)), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags: ['gifts'],
      summary: 'Change a gift (admin); `active: false` retires it. Sends already made keep what they cost.',
      ...admin,
      request: { params: uuidParam, body: jsonBody(z.object(fields).partial().strict()) },
      responses: {
        200: enveloped(giftSchema, 'Updated'),
        ...errorResponses({ 400: 'Invalid fields', 401: 'Not signed in', 403: 'Not an admin', 404: 'No such gift', 409: 'Slug taken' }),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const row = await db
        .updateTable('gifts')
        .set({
          ...(input.slug !== undefined ? { slug: input.slug } : {}),
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.coins !== undefined ? { coins: String(input.coins) } : {}),
          ...(input.imageUrl !== undefined ? { image_url: input.imageUrl } : {}),
          ...(input.active !== undefined ? { active: input.active } : {}),
          ...(input.sortOrder !== undefined ? { sort_order: input.sortOrder } : {}),
          updated_at: sql`now()`,
        })
        .where('id', '=', c.req.valid('param').id)
        .returningAll()
        .executeTakeFirst()
        .catch(uniqueSlug);
      if (!row) throw new AppError('not_found', 'No such gift');
      return c.json(ok(toItem(row)), 200);
    },
  );

  return router;
}

/** `/streams/:id/gifts` and `/streams/:id/leaderboard`: gifts sent during a broadcast. */
export function streamGiftRoutes(deps: { config: Config; db: Db; nats: Nats; metrics: HttpMetrics }) {
  const { config, db, nats } = deps;
  const rules = moneyRules(config);
  const sendGift = createGiftSender(db, rules, (size) => deps.metrics.giftBatchSize.observe(size));
  const readTop = createLeaderboardReader(db);
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/gifts',
      tags: ['gifts'],
      summary: 'Send a gift to a live stream, paid with coins from your wallet',
      description:
        'The `Idempotency-Key` header is required: a retry with the same key and body answers 200 with the first answer and spends nothing; ' +
        'the same key with another body is refused (409 `idempotency_key_reused`). The room gets a `gift` frame, and a `leaderboard` frame when the top changes.',
      security: [{ bearerAuth: [] }],
      middleware: [
        requireAuth,
        localRateLimit({ name: 'gift', limit: config.money.giftsPerMinute, windowSeconds: 60, subjects: (c) => [currentUser(c).userId] }),
      ],
      request: {
        params: uuidParam,
        headers: idempotencyKeyHeader('gift you mean to send'),
        body: jsonBody(z.object({ giftId: z.uuid(), quantity: z.number().int().min(1).max(GIFT_MAX_QUANTITY).default(1) }).strict()),
      },
      responses: {
        201: enveloped(giftSentSchema, 'Sent'),
        200: enveloped(giftSentSchema, 'Sent earlier under this Idempotency-Key (header `Idempotent-Replayed: true`); nothing new was spent'),
        ...errorResponses({
          400: 'Invalid fields, no Idempotency-Key, or no such gift',
          401: 'Not signed in',
          403: "`own_stream`: your own stream; `forbidden` with `details.reason` `chat_banned` or `chat_timeout` (and `until`): you are restricted in the channel's chat; or the account may not act",
          404: 'No such stream',
          409: '`insufficient_funds` (nothing spent), `stream_not_live`, or `idempotency_key_reused`',
          429: 'Too many gifts',
        }),
      },
    }),
    async (c) => {
      const { giftId, quantity } = c.req.valid('json');
      const sent = await sendGift({
        senderId: currentUser(c).userId,
        streamId: c.req.valid('param').id,
        giftId,
        quantity,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
      });
      if (sent.announce) await announceGift({ readTop, nats, logger: c.get('log') }, sent.announce);
      return createdOrReplayed(c, ok({ giftSend: sent.giftSend, wallet: { balance: toJsonAmount(sent.walletBalance) } }), !sent.replayed);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/leaderboard',
      tags: ['gifts'],
      summary: 'Top gifters of this broadcast, by coins spent on it',
      request: { params: uuidParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(LEADERBOARD_SIZE) }) },
      responses: { 200: enveloped(leaderboardSchema, 'The leaderboard'), ...errorResponses({ 400: 'Invalid limit', 404: 'No such stream' }) },
    }),
    async (c) => {
      const stream = await findStream(db, c.req.valid('param').id);
      const top = await readLeaderboard(db, stream.id, c.req.valid('query').limit);
      const { version } = leaderboardFrame(stream.id, top);
      return c.json(ok({ streamId: stream.id, top, version }), 200);
    },
  );

  return router;
}
