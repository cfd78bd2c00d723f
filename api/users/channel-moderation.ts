import { createRoute, z } from '@hono/zod-openapi';
import { purgeRecentMessages } from '../../lib/chat-log.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import {
  CHANNEL_MAX_MODERATORS,
  CHANNEL_REASON_MAX_CHARS,
  CHANNEL_TIMEOUT_MAX_SECONDS,
  CHANNEL_TIMEOUT_MIN_SECONDS,
  publishChannelModeration,
  restrictRefusal,
  restrictRefusalMessages,
  runsChannelChat,
  type RestrictRefusal,
} from '../../lib/moderation/channel.ts';
import {
  appointModerator,
  channelLog,
  lift,
  listModerators,
  removeModerator,
  restrict,
  restrictionsInForce,
  standingIn,
  type ChannelLogRow,
} from '../../lib/moderation/channel-store.ts';
import type { Nats } from '../../lib/nats.ts';
import type { UserRole } from '../../lib/schema.ts';
import { FINISHED_STATUSES } from '../../lib/streams.ts';
import type { AuthContext } from '../context.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { decodeCursor, enveloped, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema } from '../responses.ts';
import { createRouter } from '../router.ts';

const channelParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "The channel: its owner's user id" }) });
const pairParams = channelParam.extend({ userId: z.uuid().openapi({ param: { name: 'userId', in: 'path' }, description: 'The user acted on' }) });
const reasonSchema = z.string().trim().max(CHANNEL_REASON_MAX_CHARS).default('').openapi({ description: 'Shown to the user and kept in the log' });

const moderatorSchema = z.object({ userId: z.uuid(), username: z.string(), appointedAt: z.string() }).openapi('ChannelModerator');

const restrictionSchema = z
  .object({
    userId: z.uuid(),
    username: z.string(),
    type: z.enum(['timeout', 'ban']),
    reason: z.string(),
    durationSeconds: z.number().int().nullable(),
    until: z.string().nullable().openapi({ description: 'When a timeout ends by itself; null for a ban' }),
    createdAt: z.string(),
    createdBy: z.object({ id: z.uuid(), username: z.string() }),
  })
  .openapi('ChannelRestriction');

const logEntrySchema = z
  .object({
    id: z.string(),
    action: z.enum(['moderator_added', 'moderator_removed', 'timeout', 'ban', 'lift']),
    target: z.object({ id: z.uuid(), username: z.string() }),
    actor: z.object({ id: z.uuid(), username: z.string() }),
    reason: z.string(),
    durationSeconds: z.number().int().nullable(),
    until: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ChannelModerationLogEntry');

const restrictBodySchema = z
  .object({
    type: z.enum(['timeout', 'ban']),
    durationSeconds: z
      .number()
      .int()
      .min(CHANNEL_TIMEOUT_MIN_SECONDS)
      .max(CHANNEL_TIMEOUT_MAX_SECONDS)
      .optional()
      .openapi({ description: `Timeouts only: ${CHANNEL_TIMEOUT_MIN_SECONDS} s to 14 days` }),
    reason: reasonSchema,
    purge: z.boolean().default(true).openapi({ description: "Delete the user's recent messages in the channel's open streams (default true, as Twitch does)" }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.type === 'timeout' && body.durationSeconds === undefined) ctx.addIssue({ code: 'custom', path: ['durationSeconds'], message: 'a timeout needs a duration' });
    if (body.type === 'ban' && body.durationSeconds !== undefined) ctx.addIssue({ code: 'custom', path: ['durationSeconds'], message: 'a ban has no duration; use a timeout' });
  });

const logCursorSchema = z.object({ id: z.string().regex(/^\d{1,19}$/) });

const restrictionView = (row: ChannelLogRow) => ({
  userId: row.target_id,
  username: row.target_name,
  type: row.action as 'timeout' | 'ban',
  reason: row.reason,
  durationSeconds: row.duration_seconds,
  until: row.expires_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
  createdBy: { id: row.actor_id, username: row.actor_name },
});

const logView = (row: ChannelLogRow) => ({
  // A bigserial, which the driver may hand over as a number.
  id: String(row.id),
  action: row.action,
  target: { id: row.target_id, username: row.target_name },
  actor: { id: row.actor_id, username: row.actor_name },
  reason: row.reason,
  durationSeconds: row.duration_seconds,
  until: row.expires_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
});

/**
 * `/users/:id/channel/…`: a creator's channel moderators, the timeouts and bans of their
 * chat, and the log of both. Gateways apply a change at once (`channel.moderation` on NATS).
 */
export function channelModerationRoutes(deps: { db: Db; nats: Nats }) {
  const { db, nats } = deps;
  const router = createRouter();

  const findPerson = async (id: string, what: string): Promise<{ id: string; username: string; role: UserRole }> => {
    const row = await db.selectFrom('users').select(['id', 'username', 'role']).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row) throw new AppError('not_found', `No such ${what}`);
    return row;
  };

  /** The channel's owner and the caller, once the caller is known to run the channel's chat. */
  const moderatingCaller = async (ownerId: string, auth: AuthContext) => {
    const owner = await findPerson(ownerId, 'channel');
    const actor = await findPerson(auth.userId, 'user');
    const standing = await standingIn(db, owner.id, { id: actor.id, role: auth.role });
    if (!runsChannelChat(standing)) throw refused('not_a_moderator');
    return { owner, actor, standing };
  };

  const ownerOnly = async (ownerId: string, auth: AuthContext) => {
    const owner = await findPerson(ownerId, 'channel');
    if (auth.userId !== owner.id) throw new AppError('forbidden', "Only the channel's owner appoints and removes its moderators", { reason: 'not_the_owner' });
    return owner;
  };

  const refused = (reason: RestrictRefusal) => new AppError('forbidden', restrictRefusalMessages[reason], { reason });

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/channel/moderators',
      tags: ['channel moderation'],
      summary: "The channel's moderators (its owner, its moderators, platform staff)",
      ...signedIn,
      request: { params: channelParam },
      responses: { 200: enveloped(z.array(moderatorSchema), 'Oldest appointment first'), ...errorResponses({ 401: 'Not signed in', 403: 'Not running this channel', 404: 'No such channel' }) },
    }),
    async (c) => {
      const { owner } = await moderatingCaller(c.req.valid('param').id, currentUser(c));
      const rows = await listModerators(db, owner.id);
      return c.json(ok(rows.map((r) => ({ userId: r.id, username: r.username, appointedAt: r.created_at.toISOString() }))), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/channel/moderators/{userId}',
      tags: ['channel moderation'],
      summary: 'Appoint a channel moderator (the owner); idempotent',
      ...signedIn,
      request: { params: pairParams },
      responses: {
        200: enveloped(z.object({ userId: z.uuid(), username: z.string(), appointed: z.boolean().openapi({ description: 'False when they already were one' }) }), 'A moderator of the channel'),
        ...errorResponses({ 400: 'Yourself, or the list is full', 401: 'Not signed in', 403: 'Not the owner', 404: 'No such channel or user', 409: 'The user is timed out or banned in the channel: lift it first' }),
      },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      const owner = await ownerOnly(id, currentUser(c));
      const target = await findPerson(userId, 'user');
      if (target.id === owner.id) throw new AppError('validation_failed', 'The owner already runs the channel', [{ field: 'userId', message: 'the channel owner' }]);
      const count = await db.selectFrom('channel_moderators').select((eb) => eb.fn.countAll<string>().as('n')).where('owner_id', '=', owner.id).executeTakeFirstOrThrow();
      if (Number(count.n) >= CHANNEL_MAX_MODERATORS) throw new AppError('validation_failed', `A channel has at most ${CHANNEL_MAX_MODERATORS} moderators`, [{ field: 'userId', message: 'too many moderators' }]);
      const outcome = await appointModerator(db, owner.id, owner, target);
      if ('refused' in outcome) {
        throw new AppError('conflict', `${target.username} is ${outcome.restriction.type === 'ban' ? 'banned' : 'timed out'} in this channel; lift it first`, { reason: 'restricted' });
      }
      if (outcome.appointed) publishChannelModeration(nats, { ownerId: owner.id, userId: target.id, change: 'moderator' });
      return c.json(ok({ userId: target.id, username: target.username, appointed: outcome.appointed }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/channel/moderators/{userId}',
      tags: ['channel moderation'],
      summary: 'Remove a channel moderator (the owner); idempotent',
      ...signedIn,
      request: { params: pairParams },
      responses: {
        200: enveloped(z.object({ userId: z.uuid(), removed: z.boolean().openapi({ description: 'False when they were not one' }) }), 'Not a moderator of the channel'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Not the owner', 404: 'No such channel or user' }),
      },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      const owner = await ownerOnly(id, currentUser(c));
      const target = await findPerson(userId, 'user');
      const removed = await removeModerator(db, owner.id, owner, target);
      if (removed) publishChannelModeration(nats, { ownerId: owner.id, userId: target.id, change: 'moderator' });
      return c.json(ok({ userId: target.id, removed }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/channel/restrictions',
      tags: ['channel moderation'],
      summary: 'Timeouts and bans in force in the channel, newest first (its owner, its moderators, platform staff)',
      ...signedIn,
      request: { params: channelParam },
      responses: { 200: enveloped(z.array(restrictionSchema), 'In force now'), ...errorResponses({ 401: 'Not signed in', 403: 'Not running this channel', 404: 'No such channel' }) },
    }),
    async (c) => {
      const { owner } = await moderatingCaller(c.req.valid('param').id, currentUser(c));
      return c.json(ok((await restrictionsInForce(db, owner.id)).map(restrictionView)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/channel/restrictions/{userId}',
      tags: ['channel moderation'],
      summary: "Time out or ban a user from the channel's chat (its owner, its moderators, platform staff); replaces what was in force",
      ...signedIn,
      request: { params: pairParams, body: jsonBody(restrictBodySchema) },
      responses: {
        200: enveloped(
          restrictionSchema.extend({
            replayed: z.boolean().openapi({ description: 'True when this repeated the restriction in force and recorded nothing' }),
            purged: z.number().int().openapi({ description: "The user's messages deleted from the channel's open streams" }),
          }),
          'In force',
        ),
        ...errorResponses({
          400: 'Invalid type, duration or reason',
          401: 'Not signed in',
          403: '`details.reason`: not_a_moderator, self, channel_owner, platform_staff, channel_moderator',
          404: 'No such channel or user',
          503: 'Recorded and in force, but the purge could not finish: send it again',
        }),
      },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      const body = c.req.valid('json');
      const { owner, actor, standing } = await moderatingCaller(id, currentUser(c));
      const target = await findPerson(userId, 'user');
      const refusal = restrictRefusal({ id: actor.id, standing }, { id: target.id, standing: await standingIn(db, owner.id, target) });
      if (refusal) throw refused(refusal);
      const outcome = await restrict(db, owner.id, actor, target, { type: body.type, reason: body.reason, ...(body.durationSeconds === undefined ? {} : { durationSeconds: body.durationSeconds }) });
      if ('refused' in outcome) throw refused(outcome.refused);
      const view = restrictionView(outcome.row);
      if (!outcome.replayed) {
        publishChannelModeration(nats, { ownerId: owner.id, userId: target.id, change: 'restriction', restriction: { type: view.type, reason: view.reason, until: view.until } });
      }
      // After the commit, so a failure here leaves the restriction in force; a retry is a replay that purges again.
      let purged = 0;
      if (body.purge) {
        try {
          const streams = await db.selectFrom('streams').select('id').where('owner_id', '=', owner.id).where('status', 'not in', FINISHED_STATUSES).execute();
          for (const stream of streams) purged += await purgeRecentMessages(nats, stream.id, target.id, actor.id);
        } catch (err) {
          throw new AppError('unavailable', 'The restriction is in force, but its messages could not all be deleted; send the request again', undefined, { cause: err });
        }
      }
      return c.json(ok({ ...view, replayed: outcome.replayed, purged }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/channel/restrictions/{userId}',
      tags: ['channel moderation'],
      summary: 'Lift a timeout or ban (its owner, its moderators, platform staff); idempotent, recorded in the log',
      ...signedIn,
      request: { params: pairParams, query: z.object({ reason: reasonSchema }) },
      responses: {
        200: enveloped(
          z.object({ userId: z.uuid(), lifted: z.enum(['timeout', 'ban']).nullable().openapi({ description: 'What was lifted; null when nothing was in force' }) }),
          'Nothing in force any more',
        ),
        ...errorResponses({ 400: 'Invalid reason', 401: 'Not signed in', 403: 'Not running this channel', 404: 'No such channel or user' }),
      },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      const { owner, actor } = await moderatingCaller(id, currentUser(c));
      const target = await findPerson(userId, 'user');
      const lifted = await lift(db, owner.id, actor, target, c.req.valid('query').reason);
      if (lifted) publishChannelModeration(nats, { ownerId: owner.id, userId: target.id, change: 'restriction', restriction: null });
      return c.json(ok({ userId: target.id, lifted: lifted?.type ?? null }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/channel/log',
      tags: ['channel moderation'],
      summary: "The channel's moderation log, newest first: appointments, removals, timeouts, bans and lifts, never rewritten",
      ...signedIn,
      request: { params: channelParam, query: pageQuerySchema },
      responses: { 200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(logEntrySchema) } } }, ...errorResponses({ 400: 'Invalid cursor', 401: 'Not signed in', 403: 'Not running this channel', 404: 'No such channel' }) },
    }),
    async (c) => {
      const { owner } = await moderatingCaller(c.req.valid('param').id, currentUser(c));
      const { limit, cursor } = c.req.valid('query');
      const after = decodeCursor(cursor, logCursorSchema);
      const rows = await channelLog(db, owner.id, limit + 1, after?.id);
      return c.json(page(rows, limit, logView, (r) => ({ id: String(r.id) })), 200);
    },
  );

  return router;
}
