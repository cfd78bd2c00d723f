import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { raiseNotificationEvent } from '../../lib/notifications.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { currentUser, signedIn } from '../middleware/auth.ts';
import { decodeCursor, envelope, errorResponses, jsonBody, ok, page, pagedEnvelope, pageQuerySchema, timeKeyCursorSchema } from '../responses.ts';
import { createRouter } from '../router.ts';
import { accountRestriction } from '../../lib/moderation/store.ts';
import type { WebLinks } from '../../lib/web-urls.ts';
import { isTwoFactorEnabled } from '../auth/two-factor.ts';
import { ownProfileSchema, publicProfileSchema, restrictionSchema, toOwnProfile, toPublicProfile } from './profile.ts';
import { findChannelProfile, findOwnProfile, findProfile, follow, listFollowPage, unfollow, updateOwnProfile } from './service.ts';

export const idOrUsername = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, description: 'User id or username' }),
});
const channelProfileSchema = publicProfileSchema
  .extend({
    liveStream: z
      .object({
        id: z.uuid(),
        title: z.string(),
        status: z.enum(['live', 'reconnecting']),
        startedAt: z.string().nullable(),
        currentViewers: z.number().int(),
        webUrl: z.string().openapi({ description: 'The stream page in the web app' }),
      })
      .nullable()
      .openapi({ description: 'The public stream this channel is on air with now (live, or reconnecting within its window); null when off air' }),
  })
  .openapi('ChannelProfile');
const followStateSchema = z.object({ following: z.boolean(), notify: z.boolean().optional() });

export function userRoutes(deps: { db: Db; temporal: Temporal; web: WebLinks }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['users'],
      summary: 'Your own profile, with email, status and (suspended or banned) the restriction and the cases behind it',
      ...signedIn,
      responses: {
        200: {
          description: 'Profile',
          content: {
            'application/json': {
              schema: envelope(
                ownProfileSchema.extend({
                  restriction: restrictionSchema.nullable(),
                  twoFactorEnabled: z.boolean().openapi({ description: 'Whether signing in asks for an authenticator code (README, "Two-factor sign-in")' }),
                }),
              ),
            },
          },
        },
        ...errorResponses({ 401: 'Not signed in' }),
      },
    }),
    async (c) => {
      const profile = await findOwnProfile(deps.db, currentUser(c).userId);
      return c.json(
        ok({ ...toOwnProfile(profile, deps.web), restriction: await accountRestriction(deps.db, profile), twoFactorEnabled: await isTwoFactorEnabled(deps.db, profile.id) }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/me',
      tags: ['users'],
      summary: 'Change your display name, bio or avatar',
      ...signedIn,
      request: {
        body: jsonBody(
          z
            .object({
              displayName: z.string().trim().min(1).max(50).optional(),
              bio: z.string().max(500).optional(),
              avatarUrl: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
            })
            .strict(),
        ),
      },
      responses: {
        200: { description: 'Updated profile', content: { 'application/json': { schema: envelope(ownProfileSchema) } } },
        ...errorResponses({ 400: 'Invalid or unknown fields', 401: 'Not signed in' }),
      },
    }),
    async (c) => c.json(ok(toOwnProfile(await updateOwnProfile(deps.db, currentUser(c).userId, c.req.valid('json')), deps.web)), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags: ['users'],
      summary: 'A public profile by id or username, with the public stream the channel is live on now',
      request: { params: idOrUsername },
      responses: {
        200: { description: 'Profile', content: { 'application/json': { schema: envelope(channelProfileSchema) } } },
        ...errorResponses({ 404: 'No such user' }),
      },
    }),
    async (c) => {
      const { profile, liveStream: live } = await findChannelProfile(deps.db, c.req.valid('param').id);
      const liveStream = live ? { ...live, startedAt: live.startedAt?.toISOString() ?? null, webUrl: deps.web.stream(live.id) } : null;
      return c.json(ok({ ...toPublicProfile(profile, deps.web), liveStream }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/follow',
      tags: ['users'],
      summary: 'Follow a user (idempotent); `notify` chooses whether you hear when they go live',
      ...signedIn,
      request: {
        params: idOrUsername,
        body: { required: false, content: { 'application/json': { schema: z.object({ notify: z.boolean().optional() }).strict() } } },
      },
      responses: {
        200: { description: 'Now following', content: { 'application/json': { schema: envelope(followStateSchema) } } },
        ...errorResponses({ 400: 'Cannot follow yourself', 401: 'Not signed in', 404: 'No such user' }),
      },
    }),
    async (c) => {
      const target = await findProfile(deps.db, c.req.valid('param').id);
      const body = c.req.valid('json') ?? {};
      const me = currentUser(c);
      const state = await follow(deps.db, me.userId, target.id, body.notify);
      if (state.created) {
        // The follow is committed; a notification that cannot be queued is logged, not a failed follow.
        // One event per pair ever: unfollowing and following again does not notify twice.
        await raiseNotificationEvent(
          deps.temporal,
          { id: `new_follower:${me.userId}:${target.id}`, type: 'new_follower', actorId: me.userId, entityType: 'user', entityId: me.userId, payload: {} },
          { kind: 'users', userIds: [target.id] },
        ).catch((err) => c.get('log').error({ err, followeeId: target.id }, 'could not raise new_follower notification'));
      }
      return c.json(ok({ following: state.following, notify: state.notify }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/follow',
      tags: ['users'],
      summary: 'Unfollow a user (idempotent)',
      ...signedIn,
      request: { params: idOrUsername },
      responses: {
        200: { description: 'Not following', content: { 'application/json': { schema: envelope(followStateSchema) } } },
        ...errorResponses({ 401: 'Not signed in', 404: 'No such user' }),
      },
    }),
    async (c) => {
      const target = await findProfile(deps.db, c.req.valid('param').id);
      const state = await unfollow(deps.db, currentUser(c).userId, target.id);
      return c.json(ok({ following: state.following }), 200);
    },
  );

  for (const direction of ['followers', 'following'] as const) {
    router.openapi(
      createRoute({
        method: 'get',
        path: `/{id}/${direction}`,
        tags: ['users'],
        summary: direction === 'followers' ? 'Who follows this user, newest first' : 'Whom this user follows, newest first',
        request: { params: idOrUsername, query: pageQuerySchema },
        responses: {
          200: { description: 'One page', content: { 'application/json': { schema: pagedEnvelope(publicProfileSchema) } } },
          ...errorResponses({ 400: 'Invalid cursor or limit', 404: 'No such user' }),
        },
      }),
      async (c) => {
        const { limit, cursor } = c.req.valid('query');
        const user = await findProfile(deps.db, c.req.valid('param').id);
        const rows = await listFollowPage(deps.db, user.id, direction, limit, decodeCursor(cursor, timeKeyCursorSchema));
        return c.json(page(rows, limit, (r) => toPublicProfile(r, deps.web), (r) => ({ at: r.followed_at, id: r.id })), 200);
      },
    );
  }

  return router;
}
