import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { currentUser, requireAuth } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { envelope, errorResponses, ok } from '../responses.ts';
import { createRouter } from '../router.ts';
import { ownProfileSchema, restrictionSchema, toOwnProfile } from '../users/profile.ts';
import type { WebLinks } from '../../lib/web-urls.ts';
import { mailVerification, type EmailFlowDeps } from './email.ts';
import { emailSchema, passwordSchema, usernameSchema } from './schemas.ts';
import { findAccountId, login, logout, refresh, register, type AuthDeps } from './service.ts';


const tokensSchema = z.object({
  accessToken: z.string(),
  accessTokenExpiresAt: z.string(),
  refreshToken: z.string(),
  access: z.enum(['full', 'appeal']).openapi({
    description: '`appeal` for a suspended or banned account: the token reaches only its notifications, `GET /users/me`, its moderation cases and appeals (403 `account_restricted` elsewhere). A refresh after the sanction ends gives `full`.',
  }),
  restriction: restrictionSchema.nullable(),
});
export const sessionSchema = tokensSchema.extend({ user: ownProfileSchema }).openapi('Session');
export const twoFactorChallengeSchema = z
  .object({
    twoFactorRequired: z.literal(true),
    challengeToken: z.string().openapi({ description: 'Send it with a code to `POST /auth/login/two-factor`; single-use' }),
    expiresAt: z.string().openapi({ description: 'When the challenge stops working (`TWO_FACTOR_CHALLENGE_TTL_SECONDS` after the password)' }),
  })
  .openapi('TwoFactorChallenge');

export const clientMeta = (c: { get(k: 'clientIp'): string; req: { header(n: string): string | undefined } }) => ({
  ip: c.get('clientIp'),
  userAgent: c.req.header('user-agent'),
});

const json = <T extends z.ZodTypeAny>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });

export function authRoutes(deps: AuthDeps & Pick<EmailFlowDeps, 'temporal' | 'mail'> & { db: Db; rateLimits: Config['rateLimits']; web: WebLinks }) {
  const router = createRouter();

  const registerLimit = rateLimit(deps.db, {
    name: 'register',
    limit: deps.rateLimits.registerPerHour,
    windowSeconds: 3600,
    subjects: (c) => [c.get('clientIp')],
  });
  router.openapi(
    createRoute({
      method: 'post',
      path: '/register',
      tags: ['auth'],
      summary: 'Create an account',
      middleware: [registerLimit] as const,
      request: { body: json(z.object({ email: emailSchema, username: usernameSchema, password: passwordSchema })) },
      responses: {
        201: { description: 'Account created and signed in', content: { 'application/json': { schema: envelope(sessionSchema) } } },
        ...errorResponses({ 400: 'Invalid fields', 409: 'Email or username taken', 429: 'Too many registrations from this address' }),
      },
    }),
    async (c) => {
      const { user, tokens } = await register(deps, c.req.valid('json'), clientMeta(c));
      c.get('log').info({ userId: user.id }, 'user registered');
      // The account exists either way: without the mail now, the account page's "resend" sends it.
      await mailVerification(deps, user.id).catch((err: unknown) => c.get('log').error({ err, userId: user.id }, 'could not start the verification email'));
      return c.json(ok({ user: toOwnProfile(user, deps.web), ...tokens }), 201);
    },
  );

  const loginLimit = rateLimit(deps.db, {
    name: 'login',
    limit: deps.rateLimits.loginPerMinute,
    windowSeconds: 60,
    // Per address and per account, so neither one address nor a botnet can hammer one
    // account; email and username of one account count as one.
    subjects: async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { login?: unknown };
      const name = typeof body.login === 'string' ? body.login.trim().toLowerCase().slice(0, 254) : '';
      if (!name) return [`ip:${c.get('clientIp')}`];
      const account = await findAccountId(deps.db, name);
      return [`ip:${c.get('clientIp')}`, account ? `user:${account}` : `name:${name}`];
    },
  });
  router.openapi(
    createRoute({
      method: 'post',
      path: '/login',
      tags: ['auth'],
      summary: 'Sign in with email or username',
      description:
        'A right password answers the session, or, for an account with two-factor sign-in on, a `TwoFactorChallenge` (no tokens) to complete with `POST /auth/login/two-factor`. A wrong password answers 401 either way.',
      middleware: [loginLimit] as const,
      request: { body: json(z.object({ login: z.string().trim().min(1).max(254), password: z.string().min(1).max(128) })) },
      responses: {
        200: {
          description: 'Signed in, or the password was right and a two-factor code is needed',
          content: { 'application/json': { schema: envelope(z.union([sessionSchema, twoFactorChallengeSchema])) } },
        },
        ...errorResponses({ 400: 'Invalid fields', 401: 'Wrong login or password', 429: 'Too many attempts' }),
      },
    }),
    async (c) => {
      const outcome = await login(deps, c.req.valid('json'), clientMeta(c));
      if ('challenge' in outcome) return c.json(ok(outcome.challenge), 200);
      return c.json(ok({ user: toOwnProfile(outcome.user, deps.web), ...outcome.tokens }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/refresh',
      tags: ['auth'],
      summary: 'Trade a refresh token for new tokens (the old refresh token stops working)',
      request: { body: json(z.object({ refreshToken: z.string().min(1).max(256) })) },
      responses: {
        200: { description: 'New tokens', content: { 'application/json': { schema: envelope(tokensSchema) } } },
        ...errorResponses({ 401: 'Unknown, expired, revoked or reused refresh token' }),
      },
    }),
    async (c) => c.json(ok(await refresh(deps, c.req.valid('json').refreshToken)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/logout',
      tags: ['auth'],
      summary: 'End this session: the access token and its refresh tokens stop working',
      security: [{ bearerAuth: [] }],
      middleware: [requireAuth] as const,
      responses: {
        200: { description: 'Signed out', content: { 'application/json': { schema: envelope(z.object({ loggedOut: z.literal(true) })) } } },
        ...errorResponses({ 401: 'Not signed in' }),
      },
    }),
    async (c) => {
      await logout(deps, currentUser(c));
      return c.json(ok({ loggedOut: true as const }), 200);
    },
  );

  return router;
}
