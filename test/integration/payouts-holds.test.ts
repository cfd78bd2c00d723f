import { describe, expect, it } from 'vitest';
import { setPayoutHold } from '../../lib/payouts/holds.ts';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { earningsOf, giveAvailableEarnings, setBankMethod, TEST_IBANS, untilPhase } from '../support/payouts.ts';
import { withWorkers } from '../support/workers.ts';

const t = useTestApp();

async function userWithRole(role: 'finance' | 'admin' | 'viewer'): Promise<TestUser> {
  const user = await newUser(t.app);
  if (role !== 'viewer') await setRole(t.ctx.db, user.id, role);
  return user;
}

describe('payout holds', () => {
  it('admins set and lift holds, finance reads them, and a held creator is left out of runs until lifted', async () => {
    const [admin, finance, colleague, viewer] = [await userWithRole('admin'), await userWithRole('finance'), await userWithRole('finance'), await userWithRole('viewer')];
    const [held, free] = [await newUser(t.app), await newUser(t.app)];
    const shares = new Map<string, bigint>();
    for (const creator of [held, free]) {
      await setBankMethod(t.app, creator, TEST_IBANS[2]!);
      shares.set(creator.id, await giveAvailableEarnings(t.ctx.db, creator.id, 10_000n));
    }
    const path = `/api/v1/finance/payout-holds/${held.id}`;

    // Only admins set holds; the body is validated; the user must exist.
    expect((await call(t.app, 'PUT', path, { headers: finance.auth, body: { reason: 'chargebacks' } })).status).toBe(403);
    expect((await call(t.app, 'PUT', path, { headers: viewer.auth, body: { reason: 'chargebacks' } })).status).toBe(403);
    expect((await call(t.app, 'PUT', path, { body: { reason: 'chargebacks' } })).status).toBe(401);
    expect((await call(t.app, 'PUT', path, { headers: admin.auth, body: { reason: '  ' } })).status).toBe(400);
    expect((await call(t.app, 'PUT', '/api/v1/finance/payout-holds/00000000-0000-4000-8000-000000000000', { headers: admin.auth, body: { reason: 'x' } })).status).toBe(404);
    const set = await call(t.app, 'PUT', path, { headers: admin.auth, body: { reason: 'chargebacks under review' } });
    expect(set.status).toBe(201);
    expect(set.json.data).toMatchObject({ userId: held.id, reason: 'chargebacks under review', setBy: admin.id });
    // Setting it again re-words the one hold.
    const reworded = await call(t.app, 'PUT', path, { headers: admin.auth, body: { reason: 'fraud review' } });
    expect(reworded.status).toBe(200);
    expect(reworded.json.data).toMatchObject({ id: set.json.data.id, reason: 'fraud review' });

    // Finance reads; viewers do not.
    const listed = await call(t.app, 'GET', '/api/v1/finance/payout-holds', { headers: finance.auth });
    expect(listed.status).toBe(200);
    expect(listed.json.data.filter((h: { userId: string }) => h.userId === held.id)).toEqual([expect.objectContaining({ id: set.json.data.id, reason: 'fraud review' })]);
    expect((await call(t.app, 'GET', path, { headers: finance.auth })).json.data.reason).toBe('fraud review');
    expect((await call(t.app, 'GET', '/api/v1/finance/payout-holds', { headers: viewer.auth })).status).toBe(403);
    expect((await call(t.app, 'GET', `/api/v1/finance/payout-holds/${free.id}`, { headers: finance.auth })).status).toBe(404);

    await withWorkers(
      t.ctx,
      async () => {
        const runOnce = async () => {
          const started = await call(t.app, 'POST', '/api/v1/finance/payout-runs', { headers: finance.auth, body: { currency: 'USD' } });
          expect(started.status).toBe(202);
          const runId: string = started.json.data.id;
          await untilPhase(t.ctx.temporal, runId, ['awaiting_approval']);
          const run = await call(t.app, 'GET', `/api/v1/finance/payout-runs/${runId}?limit=100`, { headers: finance.auth });
          const taken = (run.json.data.items as { creatorId: string }[]).map((i) => i.creatorId).filter((id) => shares.has(id));
          expect((await call(t.app, 'POST', `/api/v1/finance/payout-runs/${runId}/cancel`, { headers: colleague.auth })).status).toBe(202);
          await untilPhase(t.ctx.temporal, runId, ['cancelled']);
          return taken.sort();
        };

        // On hold: the run takes only the other creator, and the held one's money stays available.
        expect(await runOnce()).toEqual([free.id]);
        expect(await earningsOf(t.ctx.db, held.id)).toEqual({ available: shares.get(held.id), reserved: 0n });

        // Lifted (by an admin only): the next run takes both.
        expect((await call(t.app, 'DELETE', path, { headers: finance.auth })).status).toBe(403);
        expect((await call(t.app, 'DELETE', path, { headers: admin.auth })).status).toBe(200);
        expect((await call(t.app, 'DELETE', path, { headers: admin.auth })).status).toBe(404);
        expect((await call(t.app, 'GET', path, { headers: finance.auth })).status).toBe(404);
        expect(await runOnce()).toEqual([held.id, free.id].sort());

        // Moderation's way in: the same function inside its own transaction.
        await t.ctx.db.transaction().execute((tx) => setPayoutHold(tx, { userId: free.id, reason: 'account under moderation', setBy: null }));
        expect((await call(t.app, 'GET', `/api/v1/finance/payout-holds/${free.id}`, { headers: finance.auth })).json.data).toMatchObject({ reason: 'account under moderation', setBy: null });
        expect(await runOnce()).toEqual([held.id]);
      },
      { media: false },
    );
  }, 180_000);
});
