import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Db } from '../../lib/db.ts';
import { notificationView } from '../../lib/notifications.ts';
import { effectiveEmailChannel } from '../../lib/notification-email.ts';
import { configurableNotificationTypes, emailChannels, notificationTypes, type NotificationType } from '../../lib/schema.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { decodeCursor, envelope, errorResponses, jsonBody, ok, page, pageMetaSchema, pageQuerySchema, timeKeyCursorSchema } from '../responses.ts';
import { createRouter } from '../router.ts';

const notificationSchema = z
  .object({
    id: z.string().uuid(),
    type: z.enum(notificationTypes),
    actorId: z.string().uuid().nullable(),
    entityType: z.string(),
    entityId: z.string(),
    payload: z.record(z.string(), z.unknown()),
    readAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Notification');

const typeSettingSchema = z.object({
  inApp: z.boolean(),
  email: z.enum(emailChannels).openapi({ description: 'Mail: `off`, `instant` (one mail each) or `daily` (the daily digest); only to a verified address' }),
});
const settingsSchema = z
  .object(Object.fromEntries(configurableNotificationTypes.map((t) => [t, typeSettingSchema])) as Record<NotificationType, typeof typeSettingSchema>)
  .openapi('NotificationSettings');
const typeChangeSchema = typeSettingSchema.partial().strict();
const settingsChangeSchema = z
  .object(Object.fromEntries(configurableNotificationTypes.map((t) => [t, typeChangeSchema])) as Record<NotificationType, typeof typeChangeSchema>)
  .partial()
  .strict()
  .openapi('NotificationSettingsChange');

async function currentSettings(db: Db, userId: string) {
  const rows = await db.selectFrom('notification_settings').select(['type', 'in_app', 'email']).where('user_id', '=', userId).execute();
  const stored = new Map(rows.map((r) => [r.type, r]));
  return Object.fromEntries(
    configurableNotificationTypes.map((t) => [t, { inApp: stored.get(t)?.in_app ?? true, email: effectiveEmailChannel(t, stored.get(t)?.email) }]),
  ) as z.infer<typeof settingsSchema>;
}

export function notificationRoutes(deps: { db: Db }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['notifications'],
      summary: 'Your notifications, newest first; `unread=true` for unread only',
      ...signedIn,
      request: { query: pageQuerySchema.extend({ unread: z.enum(['true', 'false']).optional() }) },
      responses: {
        200: {
          description: 'One page, with the unread count',
          content: {
            'application/json': {
              schema: z.object({
                success: z.literal(true),
                data: z.array(notificationSchema),
                meta: pageMetaSchema.extend({ unreadCount: z.number().int() }),
              }),
            },
          },
        },
        ...errorResponses({ 400: 'Invalid cursor or limit', 401: 'Not signed in' }),
      },
    }),
    async (c) => {
      const { userId } = currentUser(c);
      const { limit, cursor, unread } = c.req.valid('query');
      const after = decodeCursor(cursor, timeKeyCursorSchema);
      let query = deps.db
        .selectFrom('notifications')
        .select(['id', 'type', 'actor_id', 'entity_type', 'entity_id', 'payload', 'read_at', 'created_at', sql<string>`created_at::text`.as('created_at_key')])
        .where('recipient_id', '=', userId);
      if (unread === 'true') query = query.where('read_at', 'is', null);
      if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(sql<Date>`${after.at}::timestamptz`, after.id)));
      const [rows, counted] = await Promise.all([
        query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute(),
        deps.db
          .selectFrom('notifications')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('recipient_id', '=', userId)
          .where('read_at', 'is', null)
          .executeTakeFirstOrThrow(),
      ]);
      return c.json(
        page(rows, limit, notificationView, (r) => ({ at: r.created_at_key, id: r.id }), { unreadCount: counted.n }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/read',
      tags: ['notifications'],
      summary: 'Mark notifications read: by `ids`, or `all: true`',
      ...signedIn,
      request: {
        body: jsonBody(
          z.union([
            z.object({ ids: z.array(z.string().uuid()).min(1).max(100) }).strict(),
            z.object({ all: z.literal(true) }).strict(),
          ]),
        ),
      },
      responses: {
        200: { description: 'How many changed', content: { 'application/json': { schema: envelope(z.object({ marked: z.number().int() })) } } },
        ...errorResponses({ 400: 'Give ids or all', 401: 'Not signed in' }),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      let update = deps.db
        .updateTable('notifications')
        .set({ read_at: sql`now()` })
        .where('recipient_id', '=', currentUser(c).userId)
        .where('read_at', 'is', null);
      if ('ids' in body) update = update.where('id', 'in', body.ids);
      const result = await update.executeTakeFirst();
      return c.json(ok({ marked: Number(result.numUpdatedRows) }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/settings',
      tags: ['notifications'],
      summary: 'How you receive each notification type: in the app, and by email (off, instant or daily)',
      ...signedIn,
      responses: {
        200: { description: 'Every type with its setting', content: { 'application/json': { schema: envelope(settingsSchema) } } },
        ...errorResponses({ 401: 'Not signed in' }),
      },
    }),
    async (c) => c.json(ok(await currentSettings(deps.db, currentUser(c).userId)), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/settings',
      tags: ['notifications'],
      summary: 'Change settings for some or all types, any of `inApp` and `email` per type',
      ...signedIn,
      request: { body: jsonBody(settingsChangeSchema) },
      responses: {
        200: { description: 'Every type with its setting', content: { 'application/json': { schema: envelope(settingsSchema) } } },
        ...errorResponses({ 400: 'Unknown type or bad value', 401: 'Not signed in' }),
      },
    }),
    async (c) => {
      const { userId } = currentUser(c);
      const changes = Object.entries(c.req.valid('json')).flatMap(([type, value]) =>
        value && (value.inApp !== undefined || value.email !== undefined) ? [{ type: type as NotificationType, ...value }] : [],
      );
      if (changes.length) {
        // A new row takes the defaults for what the change leaves out; an existing row keeps its values.
        await deps.db
          .insertInto('notification_settings')
          .values(changes.map((ch) => ({ user_id: userId, type: ch.type, in_app: ch.inApp ?? true, email: ch.email ?? null })))
          .onConflict((oc) =>
            oc.columns(['user_id', 'type']).doUpdateSet({
              in_app: sql`case when excluded.type = any(${changes.filter((ch) => ch.inApp !== undefined).map((ch) => ch.type)}::text[]) then excluded.in_app else notification_settings.in_app end`,
              email: sql`case when excluded.type = any(${changes.filter((ch) => ch.email !== undefined).map((ch) => ch.type)}::text[]) then excluded.email else notification_settings.email end`,
              updated_at: sql`now()`,
            }),
          )
          .execute();
      }
      return c.json(ok(await currentSettings(deps.db, userId)), 200);
    },
  );

  return router;
}
