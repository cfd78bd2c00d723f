import nodemailer from 'nodemailer';
import type { MailConfig } from './config.ts';

// The only module that imports nodemailer: SMTP (mailpit locally, any relay in production).

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The Message-ID header, angle brackets included: the same on every attempt to send one message. */
  messageId: string;
  /** A List-Unsubscribe URL (RFC 2369): mail clients offer it next to the sender. */
  listUnsubscribe?: string | null;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message for every recipient; throws otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

// Well under the send activity's start-to-close timeout, so a stuck server fails the attempt
// (which is retried) instead of outliving it.
const SMTP_TIMEOUT_MS = 15_000;

export function createMailer(config: Pick<MailConfig, 'smtpUrl' | 'from'>): Mailer {
  const transport = nodemailer.createTransport(
    { url: config.smtpUrl, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS },
    { from: config.from },
  );
  return {
    async send(mail) {
      const info = await transport.sendMail({
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        ...(mail.listUnsubscribe ? { list: { unsubscribe: mail.listUnsubscribe } } : {}),
      });
      if (info.rejected.length) throw new Error(`SMTP server refused ${info.rejected.length} recipient(s): ${info.response}`);
    },
    close: () => transport.close(),
  };
}

/** The domain of the From address, which Message-IDs use as RFC 5322 suggests. */
export function senderDomain(from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return address.slice(address.lastIndexOf('@') + 1).trim();
}

/** A message's Message-ID, derived from its outbox id: a resend is recognisably the same message. */
export function messageIdFor(outboxId: string, from: string): string {
  return `<${outboxId}@${senderDomain(from)}>`;
}
