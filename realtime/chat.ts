import { createHash } from 'node:crypto';
import type { KV } from 'nats';
import { accountBlock } from '../lib/access.ts';
import {
  CHAT_MODERATOR_RATE_LIMIT,
  CHAT_RATE_LIMIT,
  CHAT_RATE_WINDOW_SECONDS,
  checkChatText,
  chatRefusalMessages,
  moderatesChat,
  publishChatEvent,
  readChatEvent,
  type ChatRefusal,
} from '../lib/chat.ts';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import { jetStreamResources, type Nats } from '../lib/nats.ts';
import { hitRateLimit, passCooldown } from '../lib/rate-limits.ts';
import type { ChatBadge } from '../lib/realtime-contract.ts';
import type { ChatMode, UserRole, UserStatus } from '../lib/schema.ts';
import { chatBadges, subscriberBadges, type SubscriberBadge } from '../lib/subscriptions/perks.ts';
import { sql } from 'kysely';
import { FINISHED_STATUSES, LIVE_STATUSES } from '../lib/streams.ts';
import { asReason, fileSignal, nudgeSignalRelay } from '../lib/moderation/signals.ts';
import { heldChatTargetId } from '../workflows/plans/moderation.ts';
import { findWatched, normalizeWatchText, type WatchedTerm, type WatchHit } from '../lib/moderation/watched-words.ts';
import { restrictionRefusal, stillInForce } from '../lib/moderation/channel.ts';
import type { ChannelStandings } from './channel-standings.ts';
import { chatFrame } from './chat-room.ts';
import type { ServerFrame } from './frames.ts';
import type { RealtimeMetrics } from './metrics.ts';
import { TtlCache } from './ttl-cache.ts';

/** How long a gateway trusts what it read about a sender, a room's settings, a follow. */
const SENDER_TTL_MS = 10_000;
const ROOM_TTL_MS = 5_000;
const FOLLOW_TTL_MS = 30_000;
/** A sender's subscriber badge (and so their perks) on a channel: a lapse shows within this. */
export const PERKS_TTL_MS = 10_000;
/** Watched words and a channel's blocked terms change rarely; a change reaches every gateway within this. */
const WATCHED_TTL_MS = 10_000;
/** Messages of one socket waiting for their checks; more is a client flooding us. */
const MAX_QUEUED_PER_SOCKET = 10;

interface Sender {
  username: string;
  role: UserRole;
  status: UserStatus;
  suspended_until: Date | null;
}

interface RoomSettings {
  ownerId: string;
  mode: ChatMode;
  slowModeSeconds: number;
  closed: boolean;
  live: boolean;
}

export interface ChatRequest {
  userId: string | null;
  streamId: string;
  text: string;
  nonce?: string;
  joined: boolean;
}

/**
 * The rules of sending a chat message, then the publish to JetStream. Each refusal is a
 * reason code; the decision needs a few reads, cached briefly so a busy room costs Postgres
 * two statements per message (the rate-limit counters every gateway shares).
 */
export function createChatSender(deps: { db: Db; nats: Nats; logger: Logger; metrics: RealtimeMetrics; standings: ChannelStandings; perksTtlMs?: number }) {
  const { db, nats } = deps;
  const senders = new TtlCache<string, Sender | undefined>(SENDER_TTL_MS);
  const rooms = new TtlCache<string, RoomSettings | undefined>(ROOM_TTL_MS);
  const follows = new TtlCache<string, boolean>(FOLLOW_TTL_MS);
  const watched = new TtlCache<string, WatchedTerm[]>(WATCHED_TTL_MS);
  const perks = new TtlCache<string, SubscriberBadge | null>(deps.perksTtlMs ?? PERKS_TTL_MS);
  const platformTerms = () =>
    watched.get('platform', async () =>
      (await db.selectFrom('watched_words').select(['term', 'level', 'reason', 'score']).execute()).map((w) => ({ term: w.term, level: w.level, source: 'platform' as const, reason: w.reason, score: w.score })),
    );
  const channelTerms = (ownerId: string) =>
    watched.get(`channel:${ownerId}`, async () =>
      (await db.selectFrom('channel_blocked_terms').select('term').where('owner_id', '=', ownerId).execute()).map((c) => ({ term: normalizeWatchText(c.term), level: 'block' as const, source: 'channel' as const })),
    );

  const loadSender = (userId: string) =>
    senders.get(userId, () =>
      db.selectFrom('users').select(['username', 'role', 'status', 'suspended_until']).where('id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst(),
    );
  const loadRoom = (streamId: string) =>
    rooms.get(streamId, async () => {
      const row = await db
        .selectFrom('streams')
        .select(['owner_id', 'chat_mode', 'chat_slow_mode_seconds', 'status'])
        .where('id', '=', streamId)
        .executeTakeFirst();
      return row && { ownerId: row.owner_id, mode: row.chat_mode, slowModeSeconds: row.chat_slow_mode_seconds, closed: FINISHED_STATUSES.includes(row.status), live: LIVE_STATUSES.includes(row.status) };
    });
  const isFollower = (userId: string, ownerId: string) =>
    follows.get(`${userId}:${ownerId}`, async () =>
      Boolean(await db.selectFrom('follows').select('follower_id').where('follower_id', '=', userId).where('followee_id', '=', ownerId).executeTakeFirst()),
    );

  /** The sender's subscriber badge on the channel, or null when they hold no perks there. */
  const badgeOf = (userId: string, ownerId: string) =>
    perks.get(`${ownerId}:${userId}`, async () => (await subscriberBadges(db, ownerId, [userId])).get(userId) ?? null);

  type Refused = { refused: ChatRefusal; retryAfterSeconds?: number; message?: string; until?: string; reason?: string };
  type Decision = Refused | { held: WatchHit; sender: Sender; text: string; live: boolean } | { sender: Sender; text: string; badges: ChatBadge[] };

  async function decide(request: ChatRequest): Promise<Decision> {
    if (!request.userId) return { refused: 'sign_in_required' };
    if (!request.joined) return { refused: 'not_joined' };
    const checked = checkChatText(request.text);
    if (!checked.ok) return { refused: checked.reason };
    const [sender, room] = await Promise.all([loadSender(request.userId), loadRoom(request.streamId)]);
    if (!sender) return { refused: 'sign_in_required' };
    const block = accountBlock(sender);
    if (block) return { refused: block.code === 'account_banned' ? 'account_banned' : 'account_suspended' };
    if (!room || room.closed) return { refused: 'chat_closed' };
    const [standing, badge] = await Promise.all([deps.standings.of(room.ownerId, request.userId), badgeOf(request.userId, room.ownerId)]);
    // Cached for a while: a timeout that ended meanwhile no longer counts.
    if (stillInForce(standing.restriction)) {
      const { code, ...why } = restrictionRefusal(standing.restriction);
      return { refused: code, ...why };
    }
    const ownerOrStaff = moderatesChat({ userId: request.userId, role: sender.role }, room.ownerId);
    const moderator = ownerOrStaff || standing.moderator;
    let held: WatchHit | undefined;
    // Watched words bind channel moderators too: an owner cannot appoint an account past the platform's list.
    if (!ownerOrStaff) {
      const hit = findWatched(checked.text, [...(await channelTerms(room.ownerId)), ...(await platformTerms())]);
      if (hit?.level === 'block') return { refused: 'message_blocked' };
      held = hit;
    }
    if (!moderator) {
      if (room.mode === 'followers' && !(await isFollower(request.userId, room.ownerId))) return { refused: 'followers_only' };
      if (room.mode === 'subscribers' && !badge) return { refused: 'subscribers_only' };
      if (room.slowModeSeconds > 0) {
        const slow = await passCooldown(db, `chat-slow:${request.streamId}:${request.userId}`, room.slowModeSeconds);
        if (!slow.allowed) return { refused: 'slow_mode', retryAfterSeconds: slow.retryAfterSeconds };
      }
    }
    const limit = moderator ? CHAT_MODERATOR_RATE_LIMIT : CHAT_RATE_LIMIT;
    const rate = await hitRateLimit(db, `chat:${request.userId}`, limit, CHAT_RATE_WINDOW_SECONDS);
    if (!rate.allowed) return { refused: 'rate_limited', retryAfterSeconds: rate.retryAfterSeconds };
    // Held only once every other rule passed: a flood of held messages is rate-limited like any other.
    if (held) return { held, sender, text: checked.text, live: room.live };
    return { sender, text: checked.text, badges: chatBadges(badge ?? undefined) };
  }

  const refusal = (code: ChatRefusal | 'unavailable', request: ChatRequest, retryAfterSeconds?: number, why: Omit<Refused, 'refused' | 'retryAfterSeconds'> = {}): ServerFrame => {
    deps.metrics.chatMessages.inc({ outcome: code });
    return {
      type: 'error',
      code,
      message: why.message ?? (code === 'unavailable' ? 'Chat is unavailable; try again' : chatRefusalMessages[code]),
      ...(request.nonce ? { nonce: request.nonce } : {}),
      ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
      ...(why.until ? { until: why.until } : {}),
      ...(why.reason !== undefined ? { reason: why.reason } : {}),
    };
  };

  // A retry of a stored message (same sender, stream and nonce) is answered with the stored
  // one before any rule runs: slow mode or the rate limit must not refuse what already went
  // through. The bucket remembers nonces for 15 minutes, longer than the longest slow mode;
  // JetStream's own 2-minute deduplication still guards concurrent retries.
  // Opened on first use and again after a failure: a bucket that could not be opened while NATS
  // was away must neither be an unhandled rejection nor stay broken once NATS is back.
  let bucket: Promise<KV> | undefined;
  const nonceBucket = () =>
    (bucket ??= nats.connection
      .jetstream()
      .views.kv(jetStreamResources(nats.subject('')).chatNoncesBucket.name)
      .catch((err: unknown) => {
        bucket = undefined;
        throw err;
      }));
  const nonceHash = (nonce: string) => createHash('sha256').update(nonce).digest('hex').slice(0, 32);
  const nonceKey = (request: ChatRequest) => `${request.streamId}.${request.userId}.${nonceHash(request.nonce!)}`;
  const rememberNonce = (request: ChatRequest, value: string) =>
    nonceBucket()
      .then((kv) => kv.put(nonceKey(request), value))
      .catch((err: unknown) => deps.logger.warn({ err }, 'could not remember a chat nonce'));

  /** The answer a retry gets: the stored message again, or `message_held` again for a held one (`h<n>` in the bucket). */
  async function storedCopy(request: ChatRequest): Promise<ServerFrame | undefined> {
    if (!request.userId || !request.nonce || !request.joined) return undefined;
    const entry = await (await nonceBucket()).get(nonceKey(request));
    if (entry?.operation !== 'PUT') return undefined;
    if (entry.string().startsWith('h')) return refusal('message_held', request);
    const original = await readChatEvent(nats, request.streamId, Number(entry.string()));
    return original?.kind === 'message' && original.userId === request.userId ? chatFrame(original, true) : undefined;
  }

  /**
   * A message with a `hold` watched word is not published: it becomes the evidence of a case
   * about it (`chat_message` `<streamId>.h<n>`), filed as an automatic signal. With a nonce,
   * the message first claims it in `held_chat_nonces` in the same transaction: a retry (even
   * a concurrent one, or one after the bucket lost the nonce) files nothing more.
   */
  async function hold(request: ChatRequest, decision: { held: WatchHit; sender: Sender; text: string; live: boolean }): Promise<void> {
    const room = await loadRoom(request.streamId);
    const heldId = await db.transaction().execute(async (tx) => {
      const { rows } = request.nonce
        ? await sql<{ id: string }>`
            insert into held_chat_nonces (stream_id, user_id, nonce_hash, held_id)
            values (${request.streamId}, ${request.userId}, ${nonceHash(request.nonce)}, nextval('held_chat_messages_seq'))
            on conflict do nothing
            returning held_id::text as id`.execute(tx)
        : await sql<{ id: string }>`select nextval('held_chat_messages_seq')::text as id`.execute(tx);
      const heldId = rows[0]?.id;
      if (heldId === undefined) return undefined;
      await fileSignal(tx, {
        targetType: 'chat_message',
        targetId: heldChatTargetId(request.streamId, heldId),
        targetOwnerId: request.userId,
        liveTarget: decision.live,
        source: 'watched_words:chat',
        reason: asReason(decision.held.reason),
        score: decision.held.score ?? 50,
        detail: { term: decision.held.term },
        snapshot: { streamId: request.streamId, channelOwnerId: room?.ownerId ?? null, heldId, userId: request.userId, username: decision.sender.username, text: decision.text, sentAt: new Date().toISOString(), held: true, term: decision.held.term },
      });
      return heldId;
    });
    if (heldId === undefined) return;
    nudgeSignalRelay(nats);
    if (request.nonce) await rememberNonce(request, `h${heldId}`);
  }

  /**
   * Sends one message. The sender hears back only when something is wrong, or when the
   * message is a retry of one already stored (same nonce): then it gets that one again,
   * since its first copy may be what it missed.
   */
  async function send(request: ChatRequest): Promise<ServerFrame | undefined> {
    const copy = await storedCopy(request).catch((err: unknown) => deps.logger.warn({ err }, 'could not look up a chat nonce'));
    if (copy) {
      deps.metrics.chatMessages.inc({ outcome: 'duplicate' });
      return copy;
    }
    let decision: Decision;
    try {
      decision = await decide(request);
    } catch (err) {
      deps.logger.warn({ err, streamId: request.streamId }, 'chat check failed');
      return refusal('unavailable', request);
    }
    if ('refused' in decision) {
      const { refused, retryAfterSeconds, ...why } = decision;
      return refusal(refused, request, retryAfterSeconds, why);
    }
    if ('held' in decision) {
      try {
        await hold(request, decision);
      } catch (err) {
        deps.logger.warn({ err, streamId: request.streamId }, 'could not hold a chat message for review');
        return refusal('unavailable', request);
      }
      return refusal('message_held', request);
    }
    const { sender, text, badges } = decision;
    const event = {
      kind: 'message' as const,
      streamId: request.streamId,
      userId: request.userId!,
      username: sender.username,
      text,
      badges,
      sentAt: new Date().toISOString(),
      ...(request.nonce ? { nonce: request.nonce } : {}),
    };
    try {
      const stored = await publishChatEvent(nats, event, request.nonce ? `${request.streamId}:${request.userId}:${request.nonce}` : undefined);
      deps.metrics.chatMessages.inc({ outcome: stored.duplicate ? 'duplicate' : 'stored' });
      if (!stored.duplicate) {
        if (request.nonce) await rememberNonce(request, String(stored.seq));
        return undefined;
      }
      const original = await readChatEvent(nats, request.streamId, stored.seq);
      return original?.kind === 'message' ? chatFrame(original, true) : undefined;
    } catch (err) {
      deps.logger.warn({ err, streamId: request.streamId }, 'chat publish failed');
      return refusal('unavailable', request);
    }
  }

  /** Per socket, messages are checked and stored one after another, so they keep their order. */
  function queueFor(reply: (frame: ServerFrame) => void) {
    let tail = Promise.resolve();
    let queued = 0;
    return (request: ChatRequest) => {
      if (queued >= MAX_QUEUED_PER_SOCKET) {
        reply(refusal('rate_limited', request, 1));
        return;
      }
      queued++;
      tail = tail
        .then(() => send(request))
        .then((frame) => frame && reply(frame))
        .finally(() => queued--);
    };
  }

  /** The owner of a stream's channel, from the same short-lived cache the rules use. */
  const ownerOf = async (streamId: string) => (await loadRoom(streamId))?.ownerId;

  return { send, queueFor, ownerOf };
}
