import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenSigner } from '../../lib/tokens.ts';

const secret = 'a-secret-of-at-least-thirty-two-characters';
const who = { userId: '5b0d7c36-8a4c-4f0e-9d6e-1f2a3b4c5d6e', role: 'viewer' as const, sessionId: '0f6b1f0e-6a57-4d5e-8c3b-2a1d0e9f8c7b' };

afterEach(() => {
  vi.useRealTimers();
});

describe('access tokens', () => {
  it('verify to the claims they were signed with, every time', async () => {
    const tokens = createTokenSigner({ secret, ttlSeconds: 60 });
    const { token, claims } = await tokens.signAccess(who);
    expect(await tokens.verifyAccess(token)).toEqual(claims);
    expect(await tokens.verifyAccess(token)).toEqual(claims);
  });

  it('carry their scope: full unless signed for appeals only', async () => {
    const tokens = createTokenSigner({ secret, ttlSeconds: 60 });
    expect((await tokens.verifyAccess((await tokens.signAccess(who)).token)).scope).toBe('full');
    const appeal = await tokens.signAccess({ ...who, scope: 'appeal' });
    expect(await createTokenSigner({ secret, ttlSeconds: 60 }).verifyAccess(appeal.token)).toEqual(appeal.claims);
    expect(appeal.claims.scope).toBe('appeal');
  });

  it('stop verifying when they expire, even after a successful check', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokens = createTokenSigner({ secret, ttlSeconds: 60 });
    const { token } = await tokens.signAccess(who);
    await tokens.verifyAccess(token);
    vi.setSystemTime(Date.now() + 61_000);
    await expect(tokens.verifyAccess(token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('refuse a token signed with another secret or altered', async () => {
    const tokens = createTokenSigner({ secret, ttlSeconds: 60 });
    const { token } = await createTokenSigner({ secret: `${secret}-other`, ttlSeconds: 60 }).signAccess(who);
    await expect(tokens.verifyAccess(token)).rejects.toMatchObject({ code: 'unauthorized' });
    const good = (await tokens.signAccess(who)).token;
    await tokens.verifyAccess(good);
    const [header, payload, signature] = good.split('.');
    const forged = [header, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' })).toString('base64url'), signature].join('.');
    await expect(tokens.verifyAccess(forged)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
