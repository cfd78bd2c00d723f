import { AppError } from '../../lib/errors.ts';
import type { UserStatus } from '../../lib/schema.ts';

/** Why an account may not act right now, or undefined when it may. Pure. */
export function accountBlock(
  user: { status: UserStatus; suspended_until: Date | null },
  now = new Date(),
): AppError | undefined {
  if (user.status === 'banned') return new AppError('account_banned', 'This account is banned');
  if (user.status === 'suspended' && (!user.suspended_until || user.suspended_until > now)) {
    const until = user.suspended_until ? ` until ${user.suspended_until.toISOString()}` : '';
    return new AppError('account_suspended', `This account is suspended${until}`);
  }
  return undefined;
}
