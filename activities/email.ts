import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Config } from '../lib/config.ts';
import type { Db } from '../lib/db.ts';
import { passwordResetEmail, verificationEmail } from '../lib/emails.ts';
import { createMailer, messageIdFor, type Mailer } from '../lib/mail.ts';
import type { EmailTokenPurpose } from '../lib/schema.ts';
import { newEmailToken } from '../lib/tokens.ts';
import { webLinks, type WebLinks } from '../lib/web-urls.ts';

/** What one email workflow is asked to mail. `requestedAt` + `ttlSeconds` is when its link expires. */
export type EmailRequest =
  | { purpose: 'verify-email'; requestId: string; userId: string; requestedAt: string; ttlSeconds: number }
  | { purpose: 'password-reset'; requestId: string; email: string; requestedAt: string; ttlSeconds: number };

export interface EmailDeps {
  db: Db;
  mailer: Mailer;
  /** MAIL_FROM, whose domain the Message-IDs use. */
  from: string;
  web: WebLinks;
}

/** The mail deps of a worker process. */
export function mailDeps(config: Config): Omit<EmailDeps, 'db'> {
  return { mailer: createMailer(config.mail), from: config.mail.from, web: webLinks(config.publicUrls.web) };
}

const tokenPurpose: Record<EmailRequest['purpose'], EmailTokenPurpose> = { 'verify-email': 'verify_email', 'password-reset': 'password_reset' };

export function createEmailActivities(deps: EmailDeps) {
  return {
    /**
     * Writes the message for a request into the outbox, with its token, once: a retry finds the
     * row its earlier attempt wrote (the key is the request). Null when there is nobody to mail:
     * no such account (a reset for an unknown address looks the same to the requester), or an
     * address verified meanwhile.
     */
    async prepareEmail(request: EmailRequest): Promise<{ outboxId: string } | null> {
      const key = `${request.purpose}/${request.requestId}`;
      return deps.db.transaction().execute(async (tx) => {
        const existing = await tx.selectFrom('email_outbox').select('id').where('key', '=', key).executeTakeFirst();
        if (existing) return { outboxId: existing.id };
        const user = await (request.purpose === 'verify-email'
          ? tx.selectFrom('users').where('id', '=', request.userId).where('email_verified_at', 'is', null)
          : tx.selectFrom('users').where(sql`lower(email)`, '=', request.email.toLowerCase())
        )
          .select(['id', 'email', 'username'])
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (!user) return null;
        const token = newEmailToken();
        await tx
          .insertInto('email_tokens')
          .values({
            token_hash: token.hash,
            user_id: user.id,
            purpose: tokenPurpose[request.purpose],
            expires_at: new Date(Date.parse(request.requestedAt) + request.ttlSeconds * 1000),
          })
          .execute();
        const message =
          request.purpose === 'verify-email'
            ? verificationEmail({ username: user.username, link: deps.web.verifyEmail(token.token), ttlSeconds: request.ttlSeconds })
            : passwordResetEmail({ username: user.username, link: deps.web.resetPassword(token.token), ttlSeconds: request.ttlSeconds });
        const outboxId = randomUUID();
        await tx
          .insertInto('email_outbox')
          .values({
            id: outboxId,
            key,
            user_id: user.id,
            to_address: user.email,
            subject: message.subject,
            text_body: message.text,
            html_body: message.html,
            message_id: messageIdFor(outboxId, deps.from),
          })
          .execute();
        return { outboxId };
      });
    },

    /**
     * Sends an outbox message unless it was sent already, and marks it sent in the same
     * transaction. The row stays locked while the SMTP server answers, so an attempt started
     * while an earlier one is still sending (a timed-out attempt, a second worker) waits and
     * then finds it sent. The one duplicate left: the server accepted the message but the mark
     * never committed (the worker died, the database went away, the server's reply was lost),
     * and the retry sends it again with the same Message-ID.
     */
    async sendEmail({ outboxId }: { outboxId: string }): Promise<{ sentNow: boolean }> {
      return deps.db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('email_outbox').selectAll().where('id', '=', outboxId).forUpdate().executeTakeFirstOrThrow();
        if (row.sent_at) return { sentNow: false };
        await deps.mailer.send({ to: row.to_address, subject: row.subject, text: row.text_body ?? '', html: row.html_body ?? '', messageId: row.message_id, listUnsubscribe: row.list_unsubscribe });
        // Account mail bodies hold a token in plain text; once in the mailbox, no body is needed.
        await tx.updateTable('email_outbox').set({ sent_at: sql`now()`, text_body: null, html_body: null }).where('id', '=', outboxId).execute();
        return { sentNow: true };
      });
    },
  };
}

export type EmailActivities = ReturnType<typeof createEmailActivities>;
