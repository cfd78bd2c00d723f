import { createRoute, z } from '@hono/zod-openapi';
import { findArchivedMessage, pageArchivedChat } from '../../lib/chat-archive.ts';
import { CHAT_MAX_SLOW_MODE_SECONDS, CHAT_MODES, publishChatEvent, readChatEvent } from '../../lib/chat.ts';
import { deleteRefusal, deleteRefusalMessages, runsChannelChat } from '../../lib/moderation/channel.ts';
import { standingIn } from '../../lib/moderation/channel-store.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Mongo } from '../../lib/mongo.ts';
import type { Nats } from '../../lib/nats.ts';
import type { AuthContext } from '../context.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { enveloped, errorResponses, jsonBody, ok, uuidParam } from '../responses.ts';
import { createRouter } from '../router.ts';
import { findStream } from './service.ts';

export interface ChatRouteDeps {
  db: Db;
  mongo: Mongo;
  nats: Nats;
}

export const chatBadgeSchema = z
  .object({
    type: z.literal('subscriber'),
    tier: z.number().int().min(1).max(3),
    months: z.number().int().min(0).openapi({ description: 'Paid periods of the sender on the channel' }),
  })
  .openapi('ChatBadge');

const messageSchema = z
  .object({
    id: z.string().openapi({ description: 'The message offset in the chat log; pass as `before` to page further back' }),
    streamId: z.uuid(),
    userId: z.uuid(),
    username: z.string(),
    text: z.string(),
    sentAt: z.string(),
    badges: z.array(chatBadgeSchema).openapi({ description: "The sender's badges when it was sent (as the live frame showed them); empty when none" }),
  })
  .openapi('ChatMessage');

const settingsSchema = z
  .object({
    mode: z.enum(CHAT_MODES).openapi({ description: "Who can chat: everyone signed in, followers only, or the channel's subscribers only (owner, channel moderators and staff always can)" }),
    slowModeSeconds: z.number().int().min(0).max(CHAT_MAX_SLOW_MODE_SECONDS).openapi({ description: 'Seconds between two messages of one viewer; 0 is off' }),
  })
  .openapi('ChatSettings');

/** A message id: its JetStream sequence, written the one way (no leading zeros). */
const messageIdPattern = /^[1-9]\d{0,14}$/;

const messageParams = uuidParam.extend({ messageId: z.string().regex(messageIdPattern).openapi({ param: { name: 'messageId', in: 'path' } }) });

/** `/streams/:id/chat…`: archived history, deleting a message, chat settings. Live chat is on the gateway. */
export function chatRoutes(deps: ChatRouteDeps) {
  const { db, mongo, nats } = deps;
  const router = createRouter();

  const moderatedStream = async (id: string, auth: AuthContext) => {
    const stream = await findStream(db, id);
    const standing = await standingIn(db, stream.owner_id, { id: auth.userId, role: auth.role });
    if (!runsChannelChat(standing)) throw new AppError('forbidden', "Only the stream's owner, its channel moderators or a platform moderator can do this", { reason: 'not_a_moderator' });
    return { stream, standing };
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/chat',
      tags: ['chat'],
      summary: 'Archived chat, newest page first; each page oldest to newest',
      request: {
        params: uuidParam,
        query: z.object({
          before: z.string().regex(messageIdPattern).optional().openapi({ description: 'Only messages older than this message id' }),
          limit: z.coerce.number().int().min(1).max(100).default(50),
        }),
      },
      responses: {
        200: {
          description: 'One page',
          content: {
            'application/json': {
              schema: z.object({
                success: z.literal(true),
                data: z.array(messageSchema),
                meta: z.object({ limit: z.number().int(), nextBefore: z.string().nullable().openapi({ description: 'Pass as `before` for older messages; null when there are none' }) }),
              }),
            },
          },
        },
        ...errorResponses({ 400: 'Invalid `before` or `limit`', 404: 'No such stream' }),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { before, limit } = c.req.valid('query');
      await findStream(db, id);
      const page = await pageArchivedChat(mongo, id, limit, before === undefined ? undefined : Number(before));
      const data = page.messages.map((m) => ({ id: String(m.seq), streamId: m.streamId, userId: m.userId!, username: m.username!, text: m.text!, sentAt: m.sentAt!.toISOString(), badges: m.badges ?? [] }));
      return c.json({ success: true as const, data, meta: { limit, nextBefore: page.hasMore && data[0] ? data[0].id : null } }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/chat/{messageId}',
      tags: ['chat'],
      summary: 'Delete a chat message everywhere (owner, channel moderator or platform moderator): viewers get `chat_deleted`, the archive marks it',
      ...signedIn,
      request: { params: messageParams },
      responses: {
        200: enveloped(z.object({ id: z.string(), streamId: z.uuid() }), 'Deleted (also when it already was)'),
        ...errorResponses({ 403: "Not the owner or a moderator of the channel, or a channel moderator deleting the owner's, staff's or another channel moderator's message (`details.reason`)", 404: 'No such stream or message' }),
      },
    }),
    async (c) => {
      const { id, messageId } = c.req.valid('param');
      const auth = currentUser(c);
      const { stream, standing } = await moderatedStream(id, auth);
      const live = await readChatEvent(nats, id, Number(messageId));
      const archived = live ? undefined : await findArchivedMessage(mongo, id, Number(messageId));
      const senderId = live ? (live.kind === 'message' ? live.userId : undefined) : archived?.text ? archived.userId : undefined;
      if (!senderId) throw new AppError('not_found', 'No such chat message in this stream');
      const sender = await db.selectFrom('users').select(['id', 'role']).where('id', '=', senderId).executeTakeFirst();
      if (sender) {
        const refusal = deleteRefusal(
          { id: auth.userId, standing },
          { id: sender.id, standing: await standingIn(db, stream.owner_id, sender) },
        );
        if (refusal) throw new AppError('forbidden', deleteRefusalMessages[refusal], { reason: refusal });
      }
      // The marker goes through the chat log like a message: every gateway and the archive see it.
      await publishChatEvent(
        nats,
        { kind: 'deleted', streamId: id, messageId, deletedBy: auth.userId, deletedAt: new Date().toISOString() },
        `delete:${id}:${messageId}`,
      );
      return c.json(ok({ id: messageId, streamId: id }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/chat/settings',
      tags: ['chat'],
      summary: 'Followers-only, subscribers-only and slow mode (owner, channel moderator or platform moderator); gateways apply it within 5 s',
      ...signedIn,
      request: { params: uuidParam, body: jsonBody(settingsSchema.strict()) },
      responses: { 200: enveloped(settingsSchema, 'The settings now in force'), ...errorResponses({ 400: 'Invalid settings', 403: 'Not the owner or a moderator of the channel', 404: 'No such stream' }) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await moderatedStream(id, currentUser(c));
      const { mode, slowModeSeconds } = c.req.valid('json');
      await db.updateTable('streams').set({ chat_mode: mode, chat_slow_mode_seconds: slowModeSeconds, updated_at: new Date() }).where('id', '=', id).execute();
      return c.json(ok({ mode, slowModeSeconds }), 200);
    },
  );

  return router;
}
