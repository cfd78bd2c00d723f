// The messages StreamHub mails: plain text and a simple HTML version of the same words. Pure.

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function render(subject: string, greeting: string, paragraphs: string[], action: { label: string; url: string }, footer: string): RenderedEmail {
  const text = [greeting, '', ...paragraphs.flatMap((p) => [p, '']), `${action.label}: ${action.url}`, '', footer, ''].join('\n');
  const html = [
    '<!doctype html>',
    `<html><body style="font-family: sans-serif; line-height: 1.5">`,
    `<p>${escapeHtml(greeting)}</p>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>`,
    `<p style="color: #555; font-size: 0.9em">${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

const duration = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;

export function verificationEmail(input: { username: string; link: string; ttlSeconds: number }): RenderedEmail {
  return render(
    'Confirm your email address for StreamHub',
    `Hi ${input.username},`,
    [`Please confirm that this is your email address. The link works once, for ${duration(input.ttlSeconds)}.`],
    { label: 'Confirm my email address', url: input.link },
    'If you did not create a StreamHub account, ignore this message.',
  );
}

export function passwordResetEmail(input: { username: string; link: string; ttlSeconds: number }): RenderedEmail {
  return render(
    'Reset your StreamHub password',
    `Hi ${input.username},`,
    [
      `Someone asked to reset the password of your StreamHub account. The link works once, for ${duration(input.ttlSeconds)}.`,
      'Setting a new password signs you out everywhere.',
    ],
    { label: 'Choose a new password', url: input.link },
    'If it was not you, ignore this message: your password stays as it is.',
  );
}
