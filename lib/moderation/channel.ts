import { AppError } from '../errors.ts';
import type { Nats } from '../nats.ts';
import type { ChannelModerationAction, UserRole } from '../schema.ts';

// Channel moderation (Twitch's /mod, /timeout, /ban, /unban): a creator appoints channel
// moderators; the creator, their channel moderators and platform staff time out or ban a
// viewer from the channel's chat. Pure rules here; the store is channel-store.ts.

/** Twitch's bounds: a timeout lasts from one second to two weeks. */
export const CHANNEL_TIMEOUT_MIN_SECONDS = 1;
export const CHANNEL_TIMEOUT_MAX_SECONDS = 14 * 24 * 60 * 60;
export const CHANNEL_REASON_MAX_CHARS = 500;
/** A creator's channel moderators; a channel needing more has a staffing problem, not a list problem. */
export const CHANNEL_MAX_MODERATORS = 500;
/** A timeout repeated within this (same duration and reason) is a retry, answered with the one in force. */
export const CHANNEL_TIMEOUT_RETRY_SECONDS = 60;

export type RestrictionType = 'timeout' | 'ban';

export interface ChannelRestriction {
  type: RestrictionType;
  reason: string;
  /** When a timeout ends; null for a ban. */
  until: Date | null;
}

/** The latest restriction fact of a user in a channel (timeout, ban or lift), as stored. */
export interface RestrictionFact {
  action: ChannelModerationAction;
  reason: string;
  expires_at: Date | null;
}

/** What is in force after the latest fact: a ban, a timeout that has not ended, or nothing. */
export function restrictionInForce(latest: RestrictionFact | undefined, now = new Date()): ChannelRestriction | undefined {
  if (!latest) return undefined;
  if (latest.action === 'ban') return { type: 'ban', reason: latest.reason, until: null };
  if (latest.action === 'timeout' && latest.expires_at && latest.expires_at > now) return { type: 'timeout', reason: latest.reason, until: latest.expires_at };
  return undefined;
}

/** Whether a restriction read earlier still holds: a timeout ends by itself when `until` passes. */
export function stillInForce(restriction: ChannelRestriction | undefined, now = new Date()): restriction is ChannelRestriction {
  return Boolean(restriction && (restriction.until === null || restriction.until > now));
}

/** How someone stands in a channel: what they may do there. */
export type ChannelStanding = 'owner' | 'staff' | 'channel_moderator' | 'viewer';

export function channelStanding(user: { id: string; role: UserRole }, ownerId: string, channelModerator: boolean): ChannelStanding {
  if (user.id === ownerId) return 'owner';
  if (user.role === 'moderator' || user.role === 'admin') return 'staff';
  return channelModerator ? 'channel_moderator' : 'viewer';
}

/** Who runs a channel's chat: deletes messages, sets its modes, times out and bans, reads the log. */
export const runsChannelChat = (standing: ChannelStanding) => standing !== 'viewer';

/** Why a restriction of `target` by `actor` is refused, or undefined when it may go ahead. */
export type RestrictRefusal = 'not_a_moderator' | 'self' | 'channel_owner' | 'platform_staff' | 'channel_moderator';

export const restrictRefusalMessages: Record<RestrictRefusal, string> = {
  not_a_moderator: "Only the channel's owner, its moderators and platform moderators can do this",
  self: 'You cannot time out or ban yourself',
  channel_owner: "The channel's owner cannot be timed out or banned in their own channel",
  platform_staff: 'Platform moderators and admins cannot be timed out or banned from a channel',
  channel_moderator: 'Channel moderators cannot be timed out or banned; the owner removes them as moderator first',
};

export function restrictRefusal(actor: { id: string; standing: ChannelStanding }, target: { id: string; standing: ChannelStanding }): RestrictRefusal | undefined {
  if (!runsChannelChat(actor.standing)) return 'not_a_moderator';
  if (actor.id === target.id) return 'self';
  if (target.standing === 'owner') return 'channel_owner';
  if (target.standing === 'staff') return 'platform_staff';
  // Twitch's rule: a moderator is unmodded before a timeout or ban, so no moderator acts on another.
  if (target.standing === 'channel_moderator') return 'channel_moderator';
  return undefined;
}

/** Why deleting a chat message of `sender` by `actor` (who runs the channel's chat) is refused, or undefined when it may go ahead. */
export type DeleteRefusal = 'channel_owner' | 'platform_staff' | 'channel_moderator';

export const deleteRefusalMessages: Record<DeleteRefusal, string> = {
  channel_owner: "A channel moderator cannot delete the channel owner's messages",
  platform_staff: "A channel moderator cannot delete a platform moderator's or admin's messages",
  channel_moderator: "A channel moderator cannot delete another channel moderator's messages; the owner can",
};

/**
 * The owner and platform staff delete any message in the channel; a channel moderator deletes
 * viewers' messages and their own, never those of the people they answer to or of a peer
 * (the same line as for timeouts and bans).
 */
export function deleteRefusal(actor: { id: string; standing: ChannelStanding }, sender: { id: string; standing: ChannelStanding }): DeleteRefusal | undefined {
  if (actor.standing !== 'channel_moderator' || actor.id === sender.id) return undefined;
  if (sender.standing === 'owner') return 'channel_owner';
  if (sender.standing === 'staff') return 'platform_staff';
  if (sender.standing === 'channel_moderator') return 'channel_moderator';
  return undefined;
}

/** The chat refusal a restriction gives its user in the gateway. */
export function restrictionRefusal(restriction: ChannelRestriction): { code: 'chat_timeout' | 'chat_banned'; message: string; until?: string; reason: string } {
  const why = restriction.reason ? `: ${restriction.reason}` : '';
  if (restriction.type === 'ban') return { code: 'chat_banned', message: `You are banned from this channel's chat${why}`, reason: restriction.reason };
  const until = restriction.until!.toISOString();
  return { code: 'chat_timeout', message: `You are timed out in this channel's chat until ${until}${why}`, until, reason: restriction.reason };
}

/**
 * Gifts and tips to a stream reach its room (`gift` and `donation` frames, with the sender's
 * name and a message), so a user timed out or banned from the channel's chat sends neither
 * into its streams: 403 `forbidden` with the chat's code as `details.reason`. Gift
 * subscriptions (announced in the room and to their recipients) likewise.
 */
export function restrictedFromRoom(restriction: ChannelRestriction, what: 'gifts' | 'tips' | 'gift subscriptions'): AppError {
  const { code, message, until } = restrictionRefusal(restriction);
  return new AppError('forbidden', `${message}. That also keeps your ${what} out of its streams`, { reason: code, ...(until ? { until } : {}) });
}

/**
 * Payload of `channel.moderation`: a user's standing in a channel changed (appointed, removed,
 * timed out, banned, lifted). Every gateway forgets what it cached about the pair, and tells
 * the user's sockets in the channel's rooms about a new restriction.
 */
export interface ChannelModerationEvent {
  ownerId: string;
  userId: string;
  change: 'moderator' | 'restriction';
  /** The restriction now in force (`change: restriction`), null once lifted. */
  restriction?: { type: RestrictionType; reason: string; until: string | null } | null;
}

export function channelModerationSubject(nats: Nats): string {
  return nats.subject('channel.moderation');
}

/**
 * Tells every gateway at once; call it after the change is committed. Never throws: a gateway
 * that misses it re-reads the pair within its cache's lifetime (10 s).
 */
export function publishChannelModeration(nats: Nats, event: ChannelModerationEvent): boolean {
  try {
    nats.connection.publish(channelModerationSubject(nats), JSON.stringify(event));
    return true;
  } catch {
    return false;
  }
}

export function parseChannelModerationEvent(data: Uint8Array): ChannelModerationEvent | undefined {
  try {
    const event = JSON.parse(new TextDecoder().decode(data)) as Partial<ChannelModerationEvent> | null;
    if (!event || typeof event.ownerId !== 'string' || typeof event.userId !== 'string') return undefined;
    if (event.change !== 'moderator' && event.change !== 'restriction') return undefined;
    return event as ChannelModerationEvent;
  } catch {
    return undefined;
  }
}
