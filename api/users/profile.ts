import { z } from '@hono/zod-openapi';
import type { User } from '../../lib/schema.ts';
import type { WebLinks } from '../../lib/web-urls.ts';

// What anyone may see of a user. Never email, hashes or moderation state.
export const publicProfileSchema = z
  .object({
    id: z.string().uuid(),
    username: z.string(),
    displayName: z.string(),
    bio: z.string(),
    avatarUrl: z.string().nullable(),
    role: z.string(),
    followerCount: z.number().int(),
    followingCount: z.number().int(),
    createdAt: z.string(),
    webUrl: z.string().openapi({ description: 'The channel page in the web app' }),
  })
  .openapi('PublicProfile');

// What the account owner sees of themself.
export const ownProfileSchema = publicProfileSchema
  .extend({
    email: z.string(),
    emailVerified: z.boolean().openapi({ description: 'Whether the owner followed the verification link mailed to this address (or reset the password through it). Signing in does not wait for it.' }),
    status: z.string(),
  })
  .openapi('OwnProfile');

/** Why a suspended or banned account's access is limited to appealing (null while it may act). */
export const restrictionSchema = z
  .object({
    status: z.enum(['suspended', 'banned']),
    until: z.string().nullable().openapi({ description: 'When a suspension ends; null for a ban' }),
    caseIds: z.array(z.string()).openapi({ description: 'The moderation cases behind it: `GET /moderation/cases/:id` reads the decision, `POST …/appeal` appeals it' }),
  })
  .openapi('AccountRestriction');

type ProfileRow = Pick<
  User,
  'id' | 'username' | 'display_name' | 'bio' | 'avatar_url' | 'role' | 'follower_count' | 'following_count' | 'created_at'
>;

export const profileColumns = [
  'users.id',
  'users.username',
  'users.display_name',
  'users.bio',
  'users.avatar_url',
  'users.role',
  'users.follower_count',
  'users.following_count',
  'users.created_at',
] as const;

export function toPublicProfile(row: ProfileRow, web: WebLinks): z.infer<typeof publicProfileSchema> {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    avatarUrl: row.avatar_url,
    role: row.role,
    followerCount: row.follower_count,
    followingCount: row.following_count,
    createdAt: row.created_at.toISOString(),
    webUrl: web.channel(row.username),
  };
}

export function toOwnProfile(row: ProfileRow & Pick<User, 'email' | 'email_verified_at' | 'status'>, web: WebLinks): z.infer<typeof ownProfileSchema> {
  return { ...toPublicProfile(row, web), email: row.email, emailVerified: row.email_verified_at !== null, status: row.status };
}
