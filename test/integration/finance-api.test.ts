import { beforeAll, describe, expect, it } from 'vitest';
import { COIN, credit, debit, platformAccount, postEntry, userAccount } from '../../lib/ledger/index.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';

const t = useTestApp();
let financeUser: TestUser;
let admin: TestUser;
let holder: TestUser;

beforeAll(async () => {
  [financeUser, admin, holder] = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
  await setRole(t.ctx.db, financeUser.id, 'finance');
  await setRole(t.ctx.db, admin.id, 'admin');
  const wallet = userAccount('coin_wallet', holder.id, COIN);
  const issuance = platformAccount('coin_issuance', COIN);
  for (let i = 0; i < 5; i++) {
    await postEntry(t.ctx.db, { idempotencyKey: `finance-api/mint/${i}`, kind: 'test.mint', refs: { step: String(i) }, lines: [debit(issuance, 100n), credit(wallet, 100n)] });
  }
  await postEntry(t.ctx.db, {
    idempotencyKey: 'finance-api/usd',
    kind: 'test.sale',
    lines: [debit(platformAccount('provider_clearing', 'USD'), 1000n), credit(platformAccount('platform_revenue', 'USD'), 1000n)],
  });
});

const routes = ['/api/v1/finance/trial-balance', '/api/v1/finance/entries', '/api/v1/finance/accounts'];

describe('finance API', () => {
  it('is for finance and admin only: 401 anonymous, 403 for viewer, creator and moderator', async () => {
    const others: TestUser[] = [];
    for (const role of ['viewer', 'creator', 'moderator'] as const) {
      const user = await newUser(t.app);
      await setRole(t.ctx.db, user.id, role);
      others.push(user);
    }
    for (const path of routes) {
      expect((await call(t.app, 'GET', path)).status, path).toBe(401);
      for (const user of others) {
        const res = await call(t.app, 'GET', path, { headers: user.auth });
        expect(res.status, path).toBe(403);
        expect(res.json.error.code).toBe('forbidden');
      }
      for (const user of [financeUser, admin]) expect((await call(t.app, 'GET', path, { headers: user.auth })).status, path).toBe(200);
    }
  });

  it('shows a trial balance in which every currency sums to zero', async () => {
    const res = await call(t.app, 'GET', '/api/v1/finance/trial-balance', { headers: financeUser.auth });
    expect(res.json.data.balanced).toBe(true);
    expect(res.json.data.currencies).toEqual([
      { currency: COIN, debits: 500, credits: 500, difference: 0, balanced: true },
      { currency: 'USD', debits: 1000, credits: 1000, difference: 0, balanced: true },
    ]);
  });

  it('shows an account with its balance and its postings newest first, page by page', async () => {
    const list = await call(t.app, 'GET', `/api/v1/finance/accounts?ownerId=${holder.id}`, { headers: financeUser.auth });
    expect(list.json.data).toHaveLength(1);
    const account = list.json.data[0];
    expect(account).toMatchObject({ code: `${holder.id}:coin_wallet:COIN`, kind: 'coin_wallet', normalSide: 'credit', limit: 'debits_must_not_exceed_credits', balance: 500 });

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { json: any } = await call(t.app, 'GET', `/api/v1/finance/accounts/${account.id}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { headers: admin.auth });
      expect(res.json.data.account.balance).toBe(500);
      seen.push(...res.json.data.postings.map((p: { balanceAfter: number }) => p.balanceAfter));
      cursor = res.json.meta.nextCursor;
    } while (cursor);
    expect(seen).toEqual([500, 400, 300, 200, 100]);

    expect((await call(t.app, 'GET', '/api/v1/finance/accounts/00000000-0000-4000-8000-000000000000', { headers: admin.auth })).status).toBe(404);
  });

  it('lists entries newest first with their postings, filterable by kind', async () => {
    const res = await call(t.app, 'GET', '/api/v1/finance/entries?kind=test.mint&limit=3', { headers: financeUser.auth });
    expect(res.json.data.map((e: { refs: { step: string } }) => e.refs.step)).toEqual(['4', '3', '2']);
    expect(res.json.data[0].postings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountCode: `${holder.id}:coin_wallet:COIN`, side: 'credit', amount: 100 }),
        expect.objectContaining({ accountCode: 'platform:coin_issuance:COIN', side: 'debit', amount: 100 }),
      ]),
    );
    const next = await call(t.app, 'GET', `/api/v1/finance/entries?kind=test.mint&limit=3&cursor=${res.json.meta.nextCursor}`, { headers: financeUser.auth });
    expect(next.json.data.map((e: { refs: { step: string } }) => e.refs.step)).toEqual(['1', '0']);
    expect(next.json.meta.nextCursor).toBeNull();
  });
});
