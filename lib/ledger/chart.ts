// The chart of accounts: every kind of ledger account, whose it is, its normal side and the
// limit the database enforces on it. Pure data; the README's chart of accounts mirrors it.

export const COIN = 'COIN';

export type Side = 'debit' | 'credit';
export type Limit = 'debits_must_not_exceed_credits' | 'credits_must_not_exceed_debits' | null;

interface KindRule {
  owner: 'user' | 'platform';
  normalSide: Side;
  limit: Limit;
  /** 'coin': always COIN; 'money': any ISO 4217 currency (the settlement currency today). */
  currency: 'coin' | 'money';
}

export const accountKinds = {
  /** A user's coins: what the platform owes them in coins. Never below zero. */
  coin_wallet: { owner: 'user', normalSide: 'credit', limit: 'debits_must_not_exceed_credits', currency: 'coin' },
  /** Contra account of every wallet: coins in circulation (issued by purchases, burned by gifts). */
  coin_issuance: { owner: 'platform', normalSide: 'debit', limit: null, currency: 'coin' },
  /** A creator's earnings still on hold (refundable), then available, then reserved for a payout. */
  earnings_pending: { owner: 'user', normalSide: 'credit', limit: null, currency: 'money' },
  // Available may go negative: a refund of earnings already paid out is repaid from future earnings.
  earnings_available: { owner: 'user', normalSide: 'credit', limit: null, currency: 'money' },
  earnings_reserved: { owner: 'user', normalSide: 'credit', limit: 'debits_must_not_exceed_credits', currency: 'money' },
  /** The platform's share of tips, coin sales and gifts. */
  platform_revenue: { owner: 'platform', normalSide: 'credit', limit: null, currency: 'money' },
  /** Money the payment provider holds for us (an asset until it settles to the bank). */
  provider_clearing: { owner: 'platform', normalSide: 'debit', limit: null, currency: 'money' },
  /** The provider's processing fees (an expense, recovered from the creator's share of a tip). */
  processing_fees: { owner: 'platform', normalSide: 'debit', limit: null, currency: 'money' },
  /** Money lost to refunds and disputes that could not be clawed back. */
  refund_losses: { owner: 'platform', normalSide: 'debit', limit: null, currency: 'money' },
  /** The value owed to creators for coins sold but not yet spent on gifts. */
  coin_liability: { owner: 'platform', normalSide: 'credit', limit: null, currency: 'money' },
  /**
   * The platform's own money (bank account and Stripe balance) that payouts leave from: credited
   * by each paid payout. Below zero until the provider's settlements into it are booked too.
   */
  platform_cash: { owner: 'platform', normalSide: 'debit', limit: null, currency: 'money' },
} as const satisfies Record<string, KindRule>;

export type AccountKind = keyof typeof accountKinds;

export type AccountRef =
  | { kind: AccountKind; owner: 'platform'; currency: string }
  | { kind: AccountKind; owner: string; currency: string };

export function isAccountKind(value: string): value is AccountKind {
  return Object.hasOwn(accountKinds, value);
}

/** The account's readable unique code, `<owner id | platform>:<kind>:<currency>`. */
export function accountCode(ref: AccountRef): string {
  return `${ref.owner}:${ref.kind}:${ref.currency}`;
}

const CURRENCY = /^[A-Z]{3}$/;

/** Refuses a reference that the chart does not allow (wrong owner type or currency). */
export function checkAccountRef(ref: AccountRef): void {
  const rule: KindRule | undefined = (accountKinds as Record<string, KindRule>)[ref.kind];
  if (!rule) throw new Error(`Unknown ledger account kind ${ref.kind}`);
  if ((rule.owner === 'platform') !== (ref.owner === 'platform')) {
    throw new Error(`Ledger account ${ref.kind} belongs to ${rule.owner === 'platform' ? 'the platform' : 'a user'}`);
  }
  if (rule.currency === 'coin' ? ref.currency !== COIN : !CURRENCY.test(ref.currency)) {
    throw new Error(`Ledger account ${ref.kind} cannot hold ${ref.currency}`);
  }
}

export function kindRule(kind: AccountKind): KindRule {
  return accountKinds[kind];
}

/**
 * The platform's accounts take a share of every payment and gift; having no limit to check,
 * their running totals are sharded so concurrent entries do not queue on one row.
 */
export function isSharded(kind: AccountKind): boolean {
  const rule = kindRule(kind);
  return rule.owner === 'platform' && rule.limit === null;
}

export const platformAccount = (kind: AccountKind, currency: string): AccountRef => ({ kind, owner: 'platform', currency });
export const userAccount = (kind: AccountKind, userId: string, currency: string): AccountRef => ({ kind, owner: userId, currency });
