import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { EmailRequest } from '../../activities/email.ts';
import type { MailConfig } from '../../lib/config.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Nats } from '../../lib/nats.ts';
import type { PasswordHasher } from '../../lib/passwords.ts';
import type { EmailTokenPurpose } from '../../lib/schema.ts';
import { publishSignOut } from '../../lib/sign-outs.ts';
import { startIdempotently, type Temporal } from '../../lib/temporal.ts';
import { hashEmailToken } from '../../lib/tokens.ts';
import type { emailWorkflow } from '../../workflows/email.ts';
import { workflowIds } from '../../workflows/ids.ts';

// Email verification and password reset. The API only starts a workflow per request
// (workflows/email.ts), which writes the token and the message and sends it, so a reset request
// takes the same path whether or not the address has an account.

export interface EmailFlowDeps {
  db: Db;
  temporal: Temporal;
  nats: Nats;
  passwords: PasswordHasher;
  mail: Pick<MailConfig, 'verificationTtlSeconds' | 'passwordResetTtlSeconds'>;
}

async function startEmail(temporal: Temporal, request: EmailRequest): Promise<void> {
  await startIdempotently(
    temporal.client.workflow.start<typeof emailWorkflow>('emailWorkflow', {
      workflowId: workflowIds.email(request.purpose, request.requestId),
      taskQueue: temporal.taskQueue,
      args: [request],
    }),
  );
}

export function mailVerification(deps: Pick<EmailFlowDeps, 'temporal' | 'mail'>, userId: string): Promise<void> {
  return startEmail(deps.temporal, {
    purpose: 'verify-email',
    requestId: randomUUID(),
    userId,
    requestedAt: new Date().toISOString(),
    ttlSeconds: deps.mail.verificationTtlSeconds,
  });
}

export async function resendVerification(deps: EmailFlowDeps, userId: string): Promise<void> {
  const user = await deps.db.selectFrom('users').select('email_verified_at').where('id', '=', userId).executeTakeFirstOrThrow();
  if (user.email_verified_at) throw new AppError('conflict', 'Your email address is already verified');
  await mailVerification(deps, userId);
}

/** Mails a reset link if an account uses the address; says nothing either way. */
export function requestPasswordReset(deps: Pick<EmailFlowDeps, 'temporal' | 'mail'>, email: string): Promise<void> {
  return startEmail(deps.temporal, {
    purpose: 'password-reset',
    requestId: randomUUID(),
    email,
    requestedAt: new Date().toISOString(),
    ttlSeconds: deps.mail.passwordResetTtlSeconds,
  });
}

/** Spends a token of this purpose (locked until the caller's transaction ends); the user it was for. */
async function spendToken(tx: Tx, token: string, purpose: EmailTokenPurpose): Promise<string> {
  const row = await tx
    .selectFrom('email_tokens')
    .select(['id', 'user_id', 'used_at', sql<boolean>`expires_at <= now()`.as('expired')])
    .where('token_hash', '=', hashEmailToken(token))
    .where('purpose', '=', purpose)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError('link_invalid', 'This link is not valid; ask for a new one');
  if (row.used_at) throw new AppError('link_used', 'This link was already used; ask for a new one');
  if (row.expired) throw new AppError('link_expired', 'This link has expired; ask for a new one');
  // Every open token of this purpose goes with it: one verification or reset closes them all.
  await tx
    .updateTable('email_tokens')
    .set({ used_at: sql`now()` })
    .where('user_id', '=', row.user_id)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
  return row.user_id;
}

export async function verifyEmail(db: Db, token: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const userId = await spendToken(tx, token, 'verify_email');
    await tx.updateTable('users').set({ email_verified_at: sql`coalesce(email_verified_at, now())` }).where('id', '=', userId).execute();
  });
}

/**
 * Sets the new password and ends every session of the account: its refresh tokens stop
 * working and so do its access tokens (each request checks its session), and the realtime
 * gateways sign its sockets out. Following the link also proves the mailbox, so it verifies too.
 */
export async function confirmPasswordReset(deps: EmailFlowDeps, input: { token: string; password: string }): Promise<void> {
  const passwordHash = await deps.passwords.hash(input.password);
  const userId = await deps.db.transaction().execute(async (tx) => {
    const userId = await spendToken(tx, input.token, 'password_reset');
    await tx
      .updateTable('users')
      .set({ password_hash: passwordHash, email_verified_at: sql`coalesce(email_verified_at, now())`, updated_at: sql`now()` })
      .where('id', '=', userId)
      .execute();
    await tx
      .updateTable('auth_sessions')
      .set({ revoked_at: sql`now()`, revoked_reason: 'password_reset' })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    return userId;
  });
  publishSignOut(deps.nats, { userId, reason: 'session_ended' });
}
