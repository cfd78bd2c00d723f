// What a refused chat message broke, in the viewer's words, from the `error` frame's code
// (README "Chat": each refusal names its rule).

export interface ChatRefusal {
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

export function refusalText(refusal: ChatRefusal): string {
  const wait = refusal.retryAfterSeconds ? ` Try again in ${refusal.retryAfterSeconds} s.` : '';
  switch (refusal.code) {
    case 'message_too_long':
      return 'Too long: a message may have at most 500 characters.';
    case 'empty_message':
      return 'The message is empty.';
    case 'slow_mode':
      return `Slow mode is on: one message per interval.${wait}`;
    case 'followers_only':
      return 'Followers-only chat: follow the channel to take part.';
    case 'subscribers_only':
      return 'Subscriber-only chat: only the channel’s subscribers can chat here. Subscribe to the channel to take part; a new subscription counts within a few seconds.';
    case 'rate_limited':
      return `Too many messages at once.${wait}`;
    case 'sign_in_required':
      return 'Sign in to chat.';
    case 'chat_closed':
      return 'The stream has ended; its chat is closed.';
    case 'account_suspended':
      return 'Your account is suspended: you cannot chat for now.';
    case 'account_banned':
      return 'Your account is banned.';
    case 'message_blocked':
      return 'It contains a term this channel or the platform does not allow.';
    case 'message_held':
      return 'Held for review: it contains a term the moderators look at first. Nobody else saw it.';
    case 'not_joined':
      return 'Not connected to this chat yet; try again.';
    default:
      return refusal.message;
  }
}

export const MAX_CHAT_LENGTH = 500;
