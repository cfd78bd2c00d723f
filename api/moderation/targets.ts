import { findArchivedMessage } from '../../lib/chat-archive.ts';
import { readChatEvent } from '../../lib/chat.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import { parseChatTarget, type TargetType } from '../../workflows/plans/moderation.ts';
import type { Mongo } from '../../lib/mongo.ts';
import type { Nats } from '../../lib/nats.ts';

export interface ReportedTarget {
  /** The account a decision would act on. */
  ownerId: string;
  /** Live now: a stream on air or a message in the chat of one. */
  live: boolean;
  /** Copied into the case when it is filed: evidence that survives the owner deleting it. */
  snapshot: Record<string, unknown>;
}

const LIVE = ['live', 'reconnecting'];

/** The reported thing as it is now, or 404. */
export async function resolveTarget(deps: { db: Db; mongo: Mongo; nats: Nats }, type: TargetType, id: string): Promise<ReportedTarget> {
  const { db } = deps;
  const missing = () => new AppError('not_found', `No such ${type.replace('_', ' ')}`);
  switch (type) {
    case 'stream': {
      const s = await db.selectFrom('streams').select(['owner_id', 'title', 'description', 'status', 'started_at']).where('id', '=', id).executeTakeFirst();
      if (!s) throw missing();
      return { ownerId: s.owner_id, live: LIVE.includes(s.status), snapshot: { title: s.title, description: s.description, status: s.status, startedAt: s.started_at?.toISOString() ?? null } };
    }
    case 'video': {
      const v = await db.selectFrom('videos').select(['owner_id', 'title', 'description', 'status', 'poster_key', 'visibility']).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      if (!v) throw missing();
      return { ownerId: v.owner_id, live: false, snapshot: { title: v.title, description: v.description, status: v.status, visibility: v.visibility, posterKey: v.poster_key } };
    }
    case 'user': {
      const u = await db.selectFrom('users').select(['username', 'display_name', 'bio', 'avatar_url']).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      if (!u) throw missing();
      return { ownerId: id, live: false, snapshot: { username: u.username, displayName: u.display_name, bio: u.bio, avatarUrl: u.avatar_url } };
    }
    case 'comment': {
      // A comment already deleted or hidden has nothing left to judge.
      const c = await db
        .selectFrom('comments')
        .select(['author_id', 'video_id', 'parent_id', 'body', 'created_at', 'edited_at'])
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .where('moderation_hidden_at', 'is', null)
        .executeTakeFirst();
      if (!c) throw missing();
      return { ownerId: c.author_id, live: false, snapshot: { videoId: c.video_id, parentId: c.parent_id, body: c.body, createdAt: c.created_at.toISOString(), editedAt: c.edited_at?.toISOString() ?? null } };
    }
    case 'chat_message': {
      const { streamId, seq } = parseChatTarget(id);
      const stream = await db.selectFrom('streams').select('status').where('id', '=', streamId).executeTakeFirst();
      if (!stream) throw missing();
      const live = await readChatEvent(deps.nats, streamId, seq);
      if (live?.kind === 'message') {
        return { ownerId: live.userId, live: LIVE.includes(stream.status), snapshot: { streamId, seq, userId: live.userId, username: live.username, text: live.text, sentAt: live.sentAt } };
      }
      const archived = await findArchivedMessage(deps.mongo, streamId, seq);
      if (!archived?.userId || !archived.text) throw missing();
      return {
        ownerId: archived.userId,
        live: LIVE.includes(stream.status),
        snapshot: { streamId, seq, userId: archived.userId, username: archived.username, text: archived.text, sentAt: archived.sentAt?.toISOString() ?? null },
      };
    }
  }
}
