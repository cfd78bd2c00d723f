import { stackEnvironment } from '../../scripts/stack/environment.ts';
import { waitUntil } from './wait.ts';

// The mail StreamHub sent, read through mailpit's HTTP API (https://mailpit.axllent.org/docs/api-v1/).
// mailpit is shared with `npm start` and other test files: a test reads and deletes only the
// messages to addresses it made up, never the whole mailbox.

export interface MailSummary {
  ID: string;
  MessageID: string;
  Subject: string;
  To: { Address: string }[];
}

export interface MailMessage extends MailSummary {
  Text: string;
  HTML: string;
}

let base: string | undefined;
const api = (path: string) => {
  base ??= `http://127.0.0.1:${stackEnvironment().ports.mailpitUi}`;
  return `${base}/api/v1${path}`;
};
const toQuery = (address: string) => `?query=${encodeURIComponent(`to:"${address}"`)}`;

async function mailpit(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(api(path), init);
  if (!res.ok) throw new Error(`mailpit ${init?.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** Messages to this address, newest first. */
export async function messagesTo(address: string): Promise<MailSummary[]> {
  const body = (await (await mailpit(`/search${toQuery(address)}`)).json()) as { messages: MailSummary[] };
  return body.messages.filter((m) => m.To.some((to) => to.Address.toLowerCase() === address.toLowerCase()));
}

export async function readMessage(id: string): Promise<MailMessage> {
  return (await (await mailpit(`/message/${id}`)).json()) as MailMessage;
}

/** Waits until at least `count` messages reached the address; all of them, newest first. */
export function waitForMessages(address: string, count = 1, timeoutMs = 60_000): Promise<MailSummary[]> {
  return waitUntil(async () => {
    const found = await messagesTo(address);
    return found.length >= count && found;
  }, `${count} message(s) to ${address}`, timeoutMs, 250);
}

/** The newest message to the address whose subject contains `subject`, once it arrived. */
export async function latestMessage(address: string, subject: string): Promise<MailMessage> {
  const summary = await waitUntil(async () => (await messagesTo(address)).find((m) => m.Subject.includes(subject)), `"${subject}" to ${address}`, 60_000, 250);
  return readMessage(summary.ID);
}

/** The link in a message's text that leads to `path` (e.g. `/reset-password`), and its token. */
export function linkIn(message: MailMessage, path: string): { url: string; token: string } {
  const match = new RegExp(`https?://\\S+${path}\\?token=([A-Za-z0-9_%-]+)`).exec(message.Text);
  if (!match) throw new Error(`no ${path} link in "${message.Subject}":\n${message.Text}`);
  return { url: match[0], token: decodeURIComponent(match[1]!) };
}

/** A message's headers, each with every value it has. */
export async function headersOf(id: string): Promise<Record<string, string[]>> {
  return (await (await mailpit(`/message/${id}/headers`)).json()) as Record<string, string[]>;
}

export async function deleteMessagesTo(address: string): Promise<void> {
  await mailpit(`/search${toQuery(address)}`, { method: 'DELETE' });
}
