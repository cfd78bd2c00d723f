import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db.ts';
import type { ChannelModerationAction, UserRole } from '../schema.ts';
import {
  CHANNEL_TIMEOUT_RETRY_SECONDS,
  channelStanding,
  restrictionInForce,
  type ChannelRestriction,
  type ChannelStanding,
  type RestrictionType,
} from './channel.ts';

type Tx = Parameters<Parameters<ReturnType<Db['transaction']>['execute']>[0]>[0];
type Queryable = Db | Tx;

const RESTRICTION_FACTS: ChannelModerationAction[] = ['timeout', 'ban', 'lift'];

/** A row of the channel's moderation log, as the API shows it. */
export interface ChannelLogRow {
  id: string;
  owner_id: string;
  target_id: string;
  target_name: string;
  actor_id: string;
  actor_name: string;
  action: ChannelModerationAction;
  reason: string;
  duration_seconds: number | null;
  expires_at: Date | null;
  created_at: Date;
}

export async function isChannelModerator(db: Queryable, ownerId: string, userId: string): Promise<boolean> {
  return Boolean(await db.selectFrom('channel_moderators').select('user_id').where('owner_id', '=', ownerId).where('user_id', '=', userId).executeTakeFirst());
}

/** How a user stands in a channel (their role decides staff; the list decides moderators). */
export async function standingIn(db: Queryable, ownerId: string, user: { id: string; role: UserRole }): Promise<ChannelStanding> {
  if (user.id === ownerId || user.role === 'moderator' || user.role === 'admin') return channelStanding(user, ownerId, false);
  return channelStanding(user, ownerId, await isChannelModerator(db, ownerId, user.id));
}

async function latestRestrictionFact(db: Queryable, ownerId: string, userId: string): Promise<ChannelLogRow | undefined> {
  return db
    .selectFrom('channel_moderation_log')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('target_id', '=', userId)
    .where('action', 'in', RESTRICTION_FACTS)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The timeout or ban of `userId` in `ownerId`'s channel in force now, if any. */
export async function restrictionOf(db: Queryable, ownerId: string, userId: string): Promise<ChannelRestriction | undefined> {
  return restrictionInForce(await latestRestrictionFact(db, ownerId, userId));
}

/** The columns `latestRestrictionJoin` adds to a row: the user's latest restriction fact, if any. */
export interface LatestRestrictionColumns {
  restriction_action: ChannelModerationAction | null;
  restriction_reason: string | null;
  restriction_expires_at: Date | null;
}

/**
 * `left join lateral` of a user's latest restriction fact in a channel, for a query that reads it
 * beside other things (one round trip). `ownerId` and `userId` are values or columns of the outer query.
 */
export function latestRestrictionJoin(ownerId: string | RawBuilder<unknown>, userId: string | RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`left join lateral (
      select action as restriction_action, reason as restriction_reason, expires_at as restriction_expires_at
      from channel_moderation_log
      where owner_id = ${ownerId} and target_id = ${userId} and action in (${sql.join(RESTRICTION_FACTS)})
      order by id desc limit 1
    ) latest_restriction on true`;
}

/** The restriction in force by the columns of `latestRestrictionJoin`. */
export function restrictionFromColumns(row: LatestRestrictionColumns): ChannelRestriction | undefined {
  return row.restriction_action
    ? restrictionInForce({ action: row.restriction_action, reason: row.restriction_reason ?? '', expires_at: row.restriction_expires_at })
    : undefined;
}

/**
 * What the gateway needs to decide a chat message of `userId` in `ownerId`'s channel: whether
 * they moderate it (the moderator rate, no slow mode) and the restriction in force. One query.
 */
export async function chatStanding(db: Db, ownerId: string, userId: string): Promise<{ moderator: boolean; restriction?: ChannelRestriction }> {
  const { rows } = await sql<{ moderator: boolean } & LatestRestrictionColumns>`
    select exists(select 1 from channel_moderators where owner_id = ${ownerId} and user_id = ${userId}) as moderator,
           restriction_action, restriction_reason, restriction_expires_at
    from (select 1) one
    ${latestRestrictionJoin(ownerId, userId)}`.execute(db);
  const row = rows[0]!;
  const restriction = restrictionFromColumns(row);
  return { moderator: row.moderator, ...(restriction ? { restriction } : {}) };
}

/** The restrictions in force in a channel: each user's latest fact when it is a ban or a running timeout. */
export async function restrictionsInForce(db: Db, ownerId: string): Promise<ChannelLogRow[]> {
  const { rows } = await sql<ChannelLogRow>`
    select * from (
      select distinct on (target_id) * from channel_moderation_log
      where owner_id = ${ownerId} and action in ('timeout', 'ban', 'lift')
      order by target_id, id desc
    ) latest
    where action = 'ban' or (action = 'timeout' and expires_at > now())
    order by id desc`.execute(db);
  return rows;
}

/** Serialises every change to one user's standing in one channel (appointing, restricting, lifting). */
async function lockPair(tx: Tx, ownerId: string, userId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`channel-moderation:${ownerId}:${userId}`}, 0))`.execute(tx);
}

interface Person {
  id: string;
  username: string;
}

function logRow(ownerId: string, actor: Person, target: Person, action: ChannelModerationAction, extra: { reason?: string; durationSeconds?: number } = {}) {
  return {
    owner_id: ownerId,
    target_id: target.id,
    target_name: target.username,
    actor_id: actor.id,
    actor_name: actor.username,
    action,
    reason: extra.reason ?? '',
    duration_seconds: extra.durationSeconds ?? null,
    expires_at: extra.durationSeconds === undefined ? null : sql<Date>`now() + make_interval(secs => ${extra.durationSeconds})`,
  };
}

export type AppointOutcome = { appointed: boolean } | { refused: 'restricted'; restriction: ChannelRestriction };

/** Appoints a channel moderator (the owner's act). Idempotent; refused while the user is timed out or banned there. */
export async function appointModerator(db: Db, ownerId: string, actor: Person, target: Person): Promise<AppointOutcome> {
  return db.transaction().execute(async (tx) => {
    await lockPair(tx, ownerId, target.id);
    if (await isChannelModerator(tx, ownerId, target.id)) return { appointed: false };
    const restriction = restrictionInForce(await latestRestrictionFact(tx, ownerId, target.id));
    if (restriction) return { refused: 'restricted' as const, restriction };
    await tx.insertInto('channel_moderators').values({ owner_id: ownerId, user_id: target.id }).execute();
    await tx.insertInto('channel_moderation_log').values(logRow(ownerId, actor, target, 'moderator_added')).execute();
    return { appointed: true };
  });
}

/** Removes a channel moderator. Idempotent: false when they were not one. */
export async function removeModerator(db: Db, ownerId: string, actor: Person, target: Person): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await lockPair(tx, ownerId, target.id);
    const gone = await tx.deleteFrom('channel_moderators').where('owner_id', '=', ownerId).where('user_id', '=', target.id).executeTakeFirst();
    if (!gone.numDeletedRows) return false;
    await tx.insertInto('channel_moderation_log').values(logRow(ownerId, actor, target, 'moderator_removed')).execute();
    return true;
  });
}

export async function listModerators(db: Db, ownerId: string) {
  return db
    .selectFrom('channel_moderators')
    .innerJoin('users', 'users.id', 'channel_moderators.user_id')
    .select(['users.id', 'users.username', 'channel_moderators.created_at'])
    .where('channel_moderators.owner_id', '=', ownerId)
    .orderBy('channel_moderators.created_at')
    .orderBy('users.id')
    .execute();
}

export type RestrictOutcome = { row: ChannelLogRow; replayed: boolean } | { refused: 'channel_moderator' };

/**
 * Times out or bans a user in a channel: a new fact that replaces whatever was in force (a
 * timeout turns a ban into a timeout, as on Twitch). The same request again — a ban with the
 * same reason while banned, or a timeout with the same duration and reason within a minute of
 * the first — is a retry: it records nothing and answers the restriction in force.
 */
export async function restrict(
  db: Db,
  ownerId: string,
  actor: Person,
  target: Person,
  request: { type: RestrictionType; reason: string; durationSeconds?: number },
): Promise<RestrictOutcome> {
  return db.transaction().execute(async (tx) => {
    await lockPair(tx, ownerId, target.id);
    // Checked under the lock an appointment takes too: nobody is appointed and banned at once.
    if (await isChannelModerator(tx, ownerId, target.id)) return { refused: 'channel_moderator' as const };
    const latest = await latestRestrictionFact(tx, ownerId, target.id);
    const { rows } = await sql<{ now: Date }>`select now() as now`.execute(tx);
    const now = rows[0]!.now;
    if (latest && restrictionInForce(latest, now) && latest.action === request.type && latest.reason === request.reason) {
      const retry =
        request.type === 'ban' ||
        (latest.duration_seconds === request.durationSeconds && now.getTime() - latest.created_at.getTime() < CHANNEL_TIMEOUT_RETRY_SECONDS * 1000);
      if (retry) return { row: latest, replayed: true };
    }
    const row = await tx
      .insertInto('channel_moderation_log')
      .values(logRow(ownerId, actor, target, request.type, { reason: request.reason, ...(request.type === 'timeout' ? { durationSeconds: request.durationSeconds! } : {}) }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return { row, replayed: false };
  });
}

/** Lifts a timeout or ban. Idempotent: the lifted restriction, or undefined when none was in force. */
export async function lift(db: Db, ownerId: string, actor: Person, target: Person, reason: string): Promise<ChannelRestriction | undefined> {
  return db.transaction().execute(async (tx) => {
    await lockPair(tx, ownerId, target.id);
    const lifted = restrictionInForce(await latestRestrictionFact(tx, ownerId, target.id));
    if (!lifted) return undefined;
    await tx.insertInto('channel_moderation_log').values(logRow(ownerId, actor, target, 'lift', { reason })).execute();
    return lifted;
  });
}

/** The channel's log, newest first, keyset by id. */
export async function channelLog(db: Db, ownerId: string, limit: number, beforeId?: string): Promise<ChannelLogRow[]> {
  let query = db.selectFrom('channel_moderation_log').selectAll().where('owner_id', '=', ownerId);
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}
