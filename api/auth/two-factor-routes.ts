import { createRoute, z } from '@hono/zod-openapi';
import type { WorkflowStarter } from '../../lib/notifications.ts';
import type { Config } from '../../lib/config.ts';
import { AppError } from '../../lib/errors.ts';
import { totpCodePattern } from '../../lib/two-factor.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { enveloped, errorResponses, jsonBody, ok } from '../responses.ts';
import { createRouter } from '../router.ts';
import { toOwnProfile } from '../users/profile.ts';
import type { WebLinks } from '../../lib/web-urls.ts';
import { clientMeta, sessionSchema } from './routes.ts';
import { findLiveUser, startSession, type AuthDeps } from './service.ts';
import { challengeOwner, disableTwoFactor, enableTwoFactor, passLoginChallenge, regenerateRecoveryCodes, setUpTwoFactor } from './two-factor.ts';

// Two-factor sign-in (README, "Two-factor sign-in").

const codeSchema = z.string().trim().regex(totpCodePattern, '6 digits').openapi({ description: 'The 6-digit code your authenticator app shows now', example: '123456' });
const recoveryCodeSchema = z.string().trim().min(10).max(32).openapi({ description: 'One of your recovery codes (`xxxxx-xxxxx`; case, spaces and dashes ignored); each works once' });
/** A code or a recovery code, exactly one. */
const secondFactor = <T extends z.ZodRawShape>(shape: T) =>
  z.union([z.object({ ...shape, code: codeSchema }).strict(), z.object({ ...shape, recoveryCode: recoveryCodeSchema }).strict()]);
const recoveryCodesSchema = z.object({
  recoveryCodes: z.array(z.string()).openapi({ description: 'Shown this once (only their hashes are kept): each signs in once in place of a code' }),
});

export function twoFactorRoutes(deps: AuthDeps & { temporal: WorkflowStarter; rateLimits: Config['rateLimits']; web: WebLinks }) {
  const router = createRouter();
  const rule = { name: 'two-factor', limit: deps.twoFactor.attemptsPerHour, windowSeconds: 3600 };
  const signedInLimit = rateLimit(deps.db, { ...rule, subjects: (c) => [`user:${currentUser(c).userId}`] });
  // Counted for the account the challenge is for, so a stolen password cannot try codes past the limit.
  const challengeLimit = rateLimit(deps.db, {
    ...rule,
    subjects: async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { challengeToken?: unknown };
      const owner = typeof body.challengeToken === 'string' && body.challengeToken.length <= 256 ? await challengeOwner(deps.db, body.challengeToken) : undefined;
      return owner ? [`user:${owner}`] : [`ip:${c.get('clientIp')}`];
    },
  });
  const limits = `\`RATE_LIMIT_TWO_FACTOR_PER_HOUR\` code attempts per account (429 \`details.rule\` \`two-factor\`).`;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/two-factor/setup',
      tags: ['auth'],
      summary: 'Start setting up two-factor sign-in: a new TOTP secret, pending until a code confirms it',
      description: `Needs your password again. Scan \`qrCodeSvg\` (or open \`otpauthUri\`, or type \`secret\`) in an authenticator app, then send a code to \`POST /auth/two-factor/enable\`. Asking again replaces the pending secret. Counts against ${limits}`,
      ...signedIn,
      middleware: [requireAuth, signedInLimit],
      request: { body: jsonBody(z.object({ password: z.string().min(1).max(128) })) },
      responses: {
        200: enveloped(
          z.object({
            otpauthUri: z.string().openapi({ description: '`otpauth://totp/…` (SHA-1, 6 digits, 30 s)' }),
            qrCodeSvg: z.string().openapi({ description: 'The URI as a QR code, an SVG document' }),
            secret: z.string().openapi({ description: 'The secret in base32, for typing in by hand' }),
          }),
          'A pending secret',
        ),
        ...errorResponses({
          400: 'Invalid fields, or a wrong password (`validation_failed`)',
          401: 'Not signed in',
          403: 'Account suspended or banned',
          409: 'Two-factor sign-in is already on',
          429: 'Too many attempts',
        }),
      },
    }),
    async (c) => c.json(ok(await setUpTwoFactor(deps, currentUser(c).userId, c.req.valid('json').password)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/two-factor/enable',
      tags: ['auth'],
      summary: 'Turn two-factor sign-in on with a code of the pending secret; answers the recovery codes once and ends your other sessions',
      description: limits,
      ...signedIn,
      middleware: [requireAuth, signedInLimit],
      request: { body: jsonBody(z.object({ code: codeSchema })) },
      responses: {
        200: enveloped(recoveryCodesSchema.extend({ otherSessionsEnded: z.number().int() }), 'On; keep the recovery codes somewhere safe'),
        ...errorResponses({
          400: 'Invalid fields, or a wrong code (`two_factor_code_invalid`)',
          401: 'Not signed in',
          403: 'Account suspended or banned',
          409: 'Already on, or nothing set up to confirm',
          429: 'Too many code attempts',
        }),
      },
    }),
    async (c) => c.json(ok(await enableTwoFactor(deps, currentUser(c), c.req.valid('json').code)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/two-factor/disable',
      tags: ['auth'],
      summary: 'Turn two-factor sign-in off with your password and a code (or a recovery code)',
      description: limits,
      ...signedIn,
      middleware: [requireAuth, signedInLimit],
      request: { body: jsonBody(secondFactor({ password: z.string().min(1).max(128) })) },
      responses: {
        200: enveloped(z.object({ twoFactorEnabled: z.literal(false) }), 'Off'),
        ...errorResponses({
          400: 'Invalid fields, a wrong password (`validation_failed`) or a wrong code (`two_factor_code_invalid`)',
          401: 'Not signed in',
          403: 'Account suspended or banned',
          409: 'Two-factor sign-in is not on',
          429: 'Too many code attempts',
        }),
      },
    }),
    async (c) => {
      await disableTwoFactor(deps, currentUser(c).userId, c.req.valid('json'));
      return c.json(ok({ twoFactorEnabled: false as const }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/two-factor/recovery-codes',
      tags: ['auth'],
      summary: 'New recovery codes for a current code; the old ones stop working',
      description: limits,
      ...signedIn,
      middleware: [requireAuth, signedInLimit],
      request: { body: jsonBody(z.object({ code: codeSchema })) },
      responses: {
        200: enveloped(recoveryCodesSchema, 'New recovery codes, shown this once'),
        ...errorResponses({
          400: 'Invalid fields, or a wrong code (`two_factor_code_invalid`)',
          401: 'Not signed in',
          403: 'Account suspended or banned',
          409: 'Two-factor sign-in is not on',
          429: 'Too many code attempts',
        }),
      },
    }),
    async (c) => c.json(ok({ recoveryCodes: await regenerateRecoveryCodes(deps, currentUser(c).userId, c.req.valid('json').code) }), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/login/two-factor',
      tags: ['auth'],
      summary: 'Complete a sign-in with the challenge of `POST /auth/login` and a code (or a recovery code)',
      description: `Each challenge takes \`TWO_FACTOR_ATTEMPTS_PER_CHALLENGE\` wrong codes (\`details.attemptsLeft\`), then answers 429 \`details.rule\` \`two-factor-challenge\`: sign in again. ${limits}`,
      middleware: [challengeLimit] as const,
      request: { body: jsonBody(secondFactor({ challengeToken: z.string().min(1).max(256) })) },
      responses: {
        200: enveloped(sessionSchema, 'Signed in'),
        ...errorResponses({
          400: 'Invalid fields, or a wrong, replayed or used code (`two_factor_code_invalid`)',
          401: 'A challenge never issued (`challenge_invalid`), expired or already used (`challenge_expired`)',
          429: 'Too many code attempts for this challenge or this account',
        }),
      },
    }),
    async (c) => {
      const userId = await passLoginChallenge(deps, c.req.valid('json')).catch((err: unknown) => {
        // A spent challenge: a new sign-in may start at once.
        if (err instanceof AppError && err.code === 'rate_limited') c.header('Retry-After', '1');
        throw err;
      });
      const { user, tokens } = await startSession(deps, await findLiveUser(deps.db, userId), clientMeta(c));
      return c.json(ok({ user: toOwnProfile(user, deps.web), ...tokens }), 200);
    },
  );

  return router;
}
