import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import { chatStanding } from '../lib/moderation/channel-store.ts';
import { channelModerationSubject, parseChannelModerationEvent, type ChannelModerationEvent, type ChannelRestriction } from '../lib/moderation/channel.ts';
import type { Nats } from '../lib/nats.ts';
import { TtlCache } from './ttl-cache.ts';

/**
 * How long a gateway trusts what it read about a user in a channel. Changes arrive at once on
 * `channel.moderation`; this only bounds how long a lost message (or a change made straight in
 * the database) goes unnoticed.
 */
const STANDING_TTL_MS = 10_000;

export type Standing = { moderator: boolean; restriction?: ChannelRestriction };

/**
 * Each user's standing in each channel as this gateway knows it: channel moderator or not, and
 * the timeout or ban in force. The API announces every change after committing it; the gateway
 * forgets the pair, so the next message reads the committed state (a read already under way
 * serves only the messages that were waiting on it). A timeout needs no message to end: its
 * `until` is compared with the clock on every message.
 */
export function watchChannelStandings(deps: { db: Db; nats: Nats; logger: Logger; onChange?: (event: ChannelModerationEvent) => void }) {
  const standings = new TtlCache<string, Standing>(STANDING_TTL_MS);
  const key = (ownerId: string, userId: string) => `${ownerId}:${userId}`;

  const sub = deps.nats.connection.subscribe(channelModerationSubject(deps.nats), {
    callback: (_err, msg) => {
      const event = parseChannelModerationEvent(msg.data);
      if (!event) return;
      standings.delete(key(event.ownerId, event.userId));
      try {
        deps.onChange?.(event);
      } catch (err) {
        deps.logger.warn({ err }, 'could not tell sockets about a channel moderation change');
      }
    },
  });

  return {
    of(ownerId: string, userId: string): Promise<Standing> {
      return standings.get(key(ownerId, userId), () => chatStanding(deps.db, ownerId, userId));
    },
    stop(): void {
      sub.unsubscribe();
    },
  };
}

export type ChannelStandings = ReturnType<typeof watchChannelStandings>;
