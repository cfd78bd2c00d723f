import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import { currentUser, requireAuth, signedIn } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { enveloped, errorResponses, jsonBody, ok } from '../responses.ts';
import { createRouter } from '../router.ts';
import { confirmPasswordReset, requestPasswordReset, resendVerification, verifyEmail, type EmailFlowDeps } from './email.ts';
import { emailSchema, passwordSchema } from './schemas.ts';

const tokenSchema = z.string().min(1).max(256).openapi({ description: 'The `token` parameter of the emailed link' });
const linkErrors = { 400: 'Invalid fields, or a token that was never issued (`link_invalid`)', 410: 'The link was already used (`link_used`) or has expired (`link_expired`)' };

/** Email verification and password reset (README, "Email"). */
export function emailRoutes(deps: EmailFlowDeps & { rateLimits: Config['rateLimits'] }) {
  const router = createRouter();

  const resendLimit = rateLimit(deps.db, {
    name: 'verification-email',
    limit: deps.rateLimits.verificationEmailsPerHour,
    windowSeconds: 3600,
    subjects: (c) => [currentUser(c).userId],
  });
  router.openapi(
    createRoute({
      method: 'post',
      path: '/verify-email/resend',
      tags: ['auth'],
      summary: 'Mail a new verification link to your address',
      description: 'Earlier links keep working until they expire; following any one verifies the address. `RATE_LIMIT_VERIFICATION_EMAILS_PER_HOUR` per user.',
      ...signedIn,
      middleware: [requireAuth, resendLimit],
      responses: {
        202: enveloped(z.object({ accepted: z.literal(true) }), 'A message is on its way'),
        ...errorResponses({ 401: 'Not signed in', 403: 'Account suspended or banned', 409: 'Already verified', 429: 'Too many verification emails' }),
      },
    }),
    async (c) => {
      await resendVerification(deps, currentUser(c).userId);
      return c.json(ok({ accepted: true as const }), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/verify-email',
      tags: ['auth'],
      summary: 'Verify your email address with the token of the mailed link',
      request: { body: jsonBody(z.object({ token: tokenSchema })) },
      responses: {
        200: enveloped(z.object({ emailVerified: z.literal(true) }), 'Verified'),
        ...errorResponses(linkErrors),
      },
    }),
    async (c) => {
      await verifyEmail(deps.db, c.req.valid('json').token);
      return c.json(ok({ emailVerified: true as const }), 200);
    },
  );

  const resetLimit = rateLimit(deps.db, {
    name: 'password-reset',
    limit: deps.rateLimits.passwordResetPerHour,
    windowSeconds: 3600,
    // Per address asked for as well as per client, so nobody can flood one mailbox from many addresses.
    subjects: async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { email?: unknown };
      const email = typeof body.email === 'string' ? body.email.trim().toLowerCase().slice(0, 254) : '';
      return email ? [`ip:${c.get('clientIp')}`, `email:${email}`] : [`ip:${c.get('clientIp')}`];
    },
  });
  router.openapi(
    createRoute({
      method: 'post',
      path: '/password-reset',
      tags: ['auth'],
      summary: 'Mail a password reset link, if an account uses this address',
      description:
        'The same 202 whether or not an account uses the address, so the answer tells nobody who has an account. `RATE_LIMIT_PASSWORD_RESET_PER_HOUR` per client address and per email address.',
      middleware: [resetLimit] as const,
      request: { body: jsonBody(z.object({ email: emailSchema })) },
      responses: {
        202: enveloped(z.object({ accepted: z.literal(true) }), 'If an account uses the address, a link is on its way'),
        ...errorResponses({ 400: 'Invalid fields', 429: 'Too many reset requests from this client or for this address' }),
      },
    }),
    async (c) => {
      await requestPasswordReset(deps, c.req.valid('json').email);
      return c.json(ok({ accepted: true as const }), 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/password-reset/confirm',
      tags: ['auth'],
      summary: 'Set a new password with the token of the mailed link; signs the account out everywhere',
      request: { body: jsonBody(z.object({ token: tokenSchema, password: passwordSchema })) },
      responses: {
        200: enveloped(z.object({ passwordReset: z.literal(true) }), 'Password changed; every session of the account has ended'),
        ...errorResponses(linkErrors),
      },
    }),
    async (c) => {
      await confirmPasswordReset(deps, c.req.valid('json'));
      return c.json(ok({ passwordReset: true as const }), 200);
    },
  );

  return router;
}
