import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp, type App } from '../../api/app.ts';
import { createEmailActivities } from '../../activities/email.ts';
import { parseConfig, processEnv, type Config } from '../../lib/config.ts';
import { createMailer } from '../../lib/mail.ts';
import { hashEmailToken } from '../../lib/tokens.ts';
import { webLinks } from '../../lib/web-urls.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, PASSWORD, type TestUser } from '../support/fixtures.ts';
import { activityAttemptsOf } from '../support/history.ts';
import { call } from '../support/http.ts';
import { latestMessage, linkIn, messagesTo, readMessage, waitForMessages } from '../support/mailpit.ts';
import { inOneWindow } from '../support/rate-windows.ts';
import { waitUntil } from '../support/wait.ts';
import { withWorkers } from '../support/workers.ts';

// Email over real SMTP (mailpit): verification on registration, password reset, the rules of
// their single-use links (README, "Email"), and the outbox that sends each message once.

const t = useTestApp();

/** README's defaults, not this run's environment (which lifts every limit for other files). */
const defaults = parseConfig({ ...processEnv(), RATE_LIMIT_PASSWORD_RESET_PER_HOUR: undefined, RATE_LIMIT_VERIFICATION_EMAILS_PER_HOUR: undefined });

function appWith(change: (config: Config) => Config): App {
  return createApp({ ...t.ctx.apiDeps(), config: change(t.ctx.config) });
}

const me = (user: { auth: Record<string, string> }) => call(t.app, 'GET', '/api/v1/users/me', { headers: user.auth });
const verify = (token: string) => call(t.app, 'POST', '/api/v1/auth/verify-email', { body: { token } });
const requestReset = (email: string, app = t.app, headers: Record<string, string> = {}) =>
  call(app, 'POST', '/api/v1/auth/password-reset', { body: { email }, headers });
const confirmReset = (token: string, password: string, app = t.app) => call(app, 'POST', '/api/v1/auth/password-reset/confirm', { body: { token, password } });
const login = (user: TestUser, password: string) => call(t.app, 'POST', '/api/v1/auth/login', { body: { login: user.username, password } });

/** This file's email workflows started since `since`, once `count` of them have finished, with their results. */
async function finishedEmailWorkflows(count: number, since: Date) {
  const query = `WorkflowType = 'emailWorkflow' AND TaskQueue = '${t.ctx.config.temporal.taskQueue}' AND StartTime > '${since.toISOString()}'`;
  return waitUntil(async () => {
    const runs = [];
    for await (const run of t.ctx.temporal.client.workflow.list({ query })) {
      runs.push(run);
    }
    if (runs.length < count || runs.some((r) => r.status.name !== 'COMPLETED')) return undefined;
    return Promise.all(runs.map(async (r) => ({ workflowId: r.workflowId, result: await t.ctx.temporal.client.workflow.getHandle(r.workflowId).result() })));
  }, `${count} finished email workflows`);
}

describe('email verification', { timeout: 120_000 }, () => {
  it('mails a link on registration; the link verifies the address once; signing in never waits for it', () =>
    withWorkers(t.ctx, async () => {
      const user = await newUser(t.app);
      expect((await me(user)).json.data.emailVerified).toBe(false);
      expect((await login(user, PASSWORD)).status).toBe(200);

      const message = await latestMessage(user.email, 'Confirm your email address');
      const { url, token } = linkIn(message, '/verify-email');
      expect(url).toBe(webLinks(t.ctx.config.publicUrls.web).verifyEmail(token));
      expect(message.HTML).toContain(`href="${url.replaceAll('&', '&amp;')}"`);
      // Only the token's hash is kept, and the sent message's body (which held it) is gone.
      const stored = await t.ctx.db.selectFrom('email_tokens').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      expect(stored.token_hash).toBe(hashEmailToken(token));
      expect(stored.expires_at.getTime() - stored.created_at.getTime()).toBeGreaterThan(86_400_000 - 60_000);
      expect(stored.expires_at.getTime() - stored.created_at.getTime()).toBeLessThanOrEqual(86_400_000 + 60_000);
      const outbox = await t.ctx.db.selectFrom('email_outbox').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      expect(outbox).toMatchObject({ text_body: null, html_body: null, to_address: user.email });
      expect(`<${message.MessageID}>`).toBe(outbox.message_id);
      expect(outbox.message_id).toBe(`<${outbox.id}@streamhub.localhost>`);

      expect((await verify(token)).json).toEqual({ success: true, data: { emailVerified: true } });
      expect((await me(user)).json.data.emailVerified).toBe(true);
      const again = await verify(token);
      expect([again.status, again.json.error.code]).toEqual([410, 'link_used']);
      const unknown = await verify(randomBytes(32).toString('base64url'));
      expect([unknown.status, unknown.json.error.code]).toEqual([400, 'link_invalid']);
      expect((await messagesTo(user.email)).length).toBe(1);
    }));

  it('resends to a signed-in, unverified user, 3 an hour, and refuses once verified', () =>
    withWorkers(t.ctx, async () => {
      const app = appWith((c) => ({ ...c, rateLimits: { ...c.rateLimits, verificationEmailsPerHour: defaults.rateLimits.verificationEmailsPerHour } }));
      const resend = (user?: TestUser) => call(app, 'POST', '/api/v1/auth/verify-email/resend', { headers: user?.auth ?? {} });
      expect((await resend()).status).toBe(401);

      const { user, statuses } = await inOneWindow(t.ctx.db, 3600, async () => {
        const user = await newUser(t.app);
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await resend(user)).status);
        return { user, statuses };
      });
      expect(defaults.rateLimits.verificationEmailsPerHour).toBe(3);
      expect(statuses).toEqual([202, 202, 202, 429]);
      // The registration's message and three more; the oldest link still works.
      const all = await waitForMessages(user.email, 4);
      const oldest = linkIn(await readMessage(all.at(-1)!.ID), '/verify-email');
      expect((await verify(oldest.token)).status).toBe(200);
      const newest = linkIn(await readMessage(all[0]!.ID), '/verify-email');
      expect((await verify(newest.token)).json.error.code).toBe('link_used');

      const verified = await newUser(t.app);
      expect((await verify(linkIn(await latestMessage(verified.email, 'Confirm'), '/verify-email').token)).status).toBe(200);
      const refused = await resend(verified);
      expect([refused.status, refused.json.error.code]).toEqual([409, 'conflict']);
    }));
});

describe('password reset', { timeout: 120_000 }, () => {
  it('answers an unknown address exactly as a known one, and mails only the account', () =>
    withWorkers(t.ctx, async () => {
      const since = new Date();
      const user = await newUser(t.app);
      await latestMessage(user.email, 'Confirm');
      const unknown = `nobody_${randomBytes(4).toString('hex')}@example.test`;
      const known = await requestReset(user.email.toUpperCase());
      const missing = await requestReset(unknown);
      expect(known.status).toBe(202);
      expect(missing.status).toBe(202);
      expect(missing.text).toBe(known.text);
      expect(known.json).toEqual({ success: true, data: { accepted: true } });

      const runs = await finishedEmailWorkflows(3, since);
      expect(runs.filter((r) => r.workflowId.startsWith('email/password-reset/')).map((r) => r.result.outboxId === null).sort()).toEqual([false, true]);
      expect(await messagesTo(unknown)).toEqual([]);
      const message = await latestMessage(user.email, 'Reset your StreamHub password');
      expect(message.Text).toContain('30 minutes');
    }));

  it('sets the new password once, ends every session (refresh and access tokens), and verifies the address', () =>
    withWorkers(t.ctx, async () => {
      const user = await newUser(t.app);
      const second = (await login(user, PASSWORD)).json.data;
      expect((await requestReset(user.email)).status).toBe(202);
      const { token } = linkIn(await latestMessage(user.email, 'Reset your'), '/reset-password');

      const short = await confirmReset(token, 'short');
      expect([short.status, short.json.error.code]).toEqual([400, 'validation_failed']);
      expect((await confirmReset(token, 'a brand new passphrase')).json).toEqual({ success: true, data: { passwordReset: true } });

      for (const accessToken of [user.accessToken, second.accessToken]) {
        const res = await call(t.app, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${accessToken}` } });
        expect([res.status, res.json.error.code]).toEqual([401, 'token_revoked']);
      }
      for (const refreshToken of [user.refreshToken, second.refreshToken]) {
        const res = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
        expect([res.status, res.json.error.code]).toEqual([401, 'token_revoked']);
      }
      expect((await login(user, PASSWORD)).status).toBe(401);
      const fresh = await login(user, 'a brand new passphrase');
      expect(fresh.status).toBe(200);
      expect(fresh.json.data.user.emailVerified).toBe(true);

      const reused = await confirmReset(token, 'yet another passphrase');
      expect([reused.status, reused.json.error.code]).toEqual([410, 'link_used']);
      expect((await login(user, 'a brand new passphrase')).status).toBe(200);
    }));

  it('refuses an expired link and leaves the password as it was', () =>
    withWorkers(t.ctx, async () => {
      const app = appWith((c) => ({ ...c, mail: { ...c.mail, passwordResetTtlSeconds: 1 } }));
      const user = await newUser(t.app);
      expect((await requestReset(user.email, app)).status).toBe(202);
      const { token } = linkIn(await latestMessage(user.email, 'Reset your'), '/reset-password');
      const row = await t.ctx.db.selectFrom('email_tokens').select('expires_at').where('token_hash', '=', hashEmailToken(token)).executeTakeFirstOrThrow();
      await waitUntil(async () => row.expires_at.getTime() < Date.now() - 1000, 'the link to expire');
      const expired = await confirmReset(token, 'a brand new passphrase', app);
      expect([expired.status, expired.json.error.code]).toEqual([410, 'link_expired']);
      expect((await login(user, PASSWORD)).status).toBe(200);
    }));

  it('allows 5 requests an hour per email address and per client address, then 429', async () => {
    const app = appWith((c) => ({ ...c, rateLimits: { ...c.rateLimits, trustProxy: true, passwordResetPerHour: defaults.rateLimits.passwordResetPerHour } }));
    expect(defaults.rateLimits.passwordResetPerHour).toBe(5);
    let n = 0;
    const freshIp = () => `198.19.${Math.floor(++n / 250)}.${n % 250}`;
    const freshEmail = () => `limit_${randomBytes(4).toString('hex')}@example.test`;

    // One address asked for from six clients.
    const perEmail = await inOneWindow(t.ctx.db, 3600, async () => {
      const email = freshEmail();
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push(await requestReset(email, app, { 'x-forwarded-for': freshIp() }));
      return seen;
    });
    expect(perEmail.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 429]);
    expect(perEmail[5]!.json.error).toMatchObject({ code: 'rate_limited', details: { rule: 'password-reset' } });

    // One client asking for six addresses.
    const perClient = await inOneWindow(t.ctx.db, 3600, async () => {
      const ip = freshIp();
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push((await requestReset(freshEmail(), app, { 'x-forwarded-for': ip })).status);
      return seen;
    });
    expect(perClient).toEqual([202, 202, 202, 202, 202, 429]);
  });
});

describe('email outbox', { timeout: 120_000 }, () => {
  it('sends one message when the attempt that sent it failed afterwards (a lost completion): the retry finds it sent', async () => {
    const since = new Date();
    const user = await newUser(t.app); // its verification waits: no worker yet
    let failed = false;
    await withWorkers(
      t.ctx,
      async () => {
        expect((await requestReset(user.email)).status).toBe(202);
        const runs = await finishedEmailWorkflows(2, since);
        const reset = runs.find((r) => r.workflowId.startsWith('email/password-reset/'))!;
        expect(reset.result.sentNow).toBe(false);
        // The history keeps the start of the attempt that completed: the second.
        expect(await activityAttemptsOf(t.ctx.temporal.client.workflow.getHandle(reset.workflowId), 'sendEmail')).toEqual([2]);
        expect(failed).toBe(true);
        const resets = (await messagesTo(user.email)).filter((m) => m.Subject.includes('Reset your'));
        expect(resets).toHaveLength(1);
      },
      {
        wrap: (real) => ({
          async sendEmail(input) {
            const outbox = await t.ctx.db.selectFrom('email_outbox').select('key').where('id', '=', input.outboxId).executeTakeFirstOrThrow();
            const result = await real.sendEmail(input);
            if (outbox.key.startsWith('password-reset/') && !failed) {
              failed = true;
              throw new Error('worker lost before reporting the send');
            }
            return result;
          },
        }),
      },
    );
  });

  it('may send twice, with one Message-ID, when SMTP accepted but the mark never committed (the documented at-least-once edge)', async () => {
    const since = new Date();
    const user = await newUser(t.app);
    const mailer = createMailer(t.ctx.config.mail);
    let dropped = false;
    const afterSmtp = createEmailActivities({
      db: t.ctx.db,
      from: t.ctx.config.mail.from,
      web: webLinks(t.ctx.config.publicUrls.web),
      mailer: {
        async send(mail) {
          await mailer.send(mail);
          if (!dropped) {
            dropped = true;
            throw new Error('connection lost after the server accepted the message');
          }
        },
        close: () => mailer.close(),
      },
    });
    await withWorkers(
      t.ctx,
      async () => {
        await finishedEmailWorkflows(1, since);
        const copies = await Promise.all((await waitForMessages(user.email, 2)).map((m) => readMessage(m.ID)));
        expect(copies).toHaveLength(2);
        expect(new Set(copies.map((m) => m.MessageID)).size).toBe(1);
        expect(copies[0]!.Text).toBe(copies[1]!.Text);
      },
      { wrap: () => ({ sendEmail: afterSmtp.sendEmail }) },
    );
  });
});
