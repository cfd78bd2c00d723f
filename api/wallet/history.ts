import { z } from '@hono/zod-openapi';
import { toJsonAmount, type Posting, type Side } from '../../lib/ledger/index.ts';
import { decodeCursor, page } from '../responses.ts';

// An account holder's own view of their postings (wallet, earnings): amounts signed from the
// holder's side, and only the references that are theirs to see.

/**
 * Entry references shown to account holders: ids of things, never of other people (a gift's
 * sender, an anonymous tipper) or of the payment provider.
 */
const HOLDER_REFS = ['streamId', 'videoId', 'giftId', 'giftSendId', 'tipId', 'coinPackId', 'coinPurchaseId', 'payoutRunId', 'payoutId'] as const;

export const holderRefs = (refs: Record<string, string>): Record<string, string> =>
  Object.fromEntries(HOLDER_REFS.flatMap((key) => (typeof refs[key] === 'string' ? [[key, refs[key]]] : [])));

export const historyItemSchema = z.object({
  id: z.string().openapi({ description: 'The posting id' }),
  entryId: z.uuid(),
  kind: z.string().openapi({ description: 'Where it came from: `gift`, `coin_purchase`, `tip`, `earnings_maturation`, `refund` …' }),
  amount: z.number().int().openapi({ description: 'Integer minor units (coins for the wallet): positive in, negative out' }),
  balanceAfter: z.number().int().nullable(),
  refs: z.record(z.string(), z.string()).openapi({ description: 'Ids of what the entry is about (streamId, giftSendId, tipId …)' }),
  createdAt: z.iso.datetime(),
});

/** A posting as its holder reads it: on the account's normal side it adds to the balance. */
export const toHistoryItem = (posting: Posting, normalSide: Side) => ({
  id: posting.id,
  entryId: posting.entryId,
  kind: posting.kind,
  amount: toJsonAmount(posting.side === normalSide ? posting.amount : -posting.amount),
  // A holder's accounts (wallet, earnings) are never sharded, so every posting knows its balance.
  balanceAfter: posting.balanceAfter === null ? null : toJsonAmount(posting.balanceAfter),
  refs: holderRefs(posting.refs),
  createdAt: posting.createdAt.toISOString(),
});

const cursorSchema = z.object({ id: z.string().regex(/^\d{1,19}$/) });

export const decodeHistoryCursor = (cursor: string | undefined) => decodeCursor(cursor, cursorSchema)?.id;

/** One page of history items and its meta, from `limit + 1` postings newest first. */
export const historyPage = <Item>(postings: Posting[], limit: number, toItem: (p: Posting) => Item) => {
  const { data, meta } = page(postings, limit, toItem, (p) => ({ id: p.id }));
  return { history: data, meta };
};
