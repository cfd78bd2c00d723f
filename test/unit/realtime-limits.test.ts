import { describe, expect, it } from 'vitest';
import { addressHolder, clientAddress } from '../../lib/client-address.ts';
import { parseConfig } from '../../lib/config.ts';
import { createTokenBuckets } from '../../lib/token-buckets.ts';
import { gatewayLimits } from '../../realtime/gateway.ts';
import { AddressSlots, FrameBudget } from '../../realtime/limits.ts';
import { anonymousViewerKey } from '../../realtime/viewers.ts';

const secrets = { S3_ACCESS_KEY_ID: 'streamhub', S3_SECRET_ACCESS_KEY: 'x'.repeat(20), INTERNAL_SECRET: 'y'.repeat(20), JWT_SECRET: 'z'.repeat(40) };

// The numbers the README's configuration table and "Gateway limits" state, as a fresh install gets them.
describe('documented defaults', () => {
  it('gateway: 50 sockets per address, 60 frames per 10 s, sessions re-checked every 10 s', () => {
    expect(gatewayLimits(parseConfig(secrets).realtime)).toEqual({ connectionsPerAddress: 50, frames: { count: 60, windowMs: 10_000 }, sessionCheckMs: 10_000 });
  });

  it('API: 600 requests at once per address, then one every 0.1 s; login 5 a minute, registration 3 an hour', () => {
    const limits = parseConfig(secrets).rateLimits;
    expect(limits).toMatchObject({ generalPerMinute: 600, loginPerMinute: 5, registerPerHour: 3, trustProxy: false });
    // The general ceiling is the API's token bucket of that size per 60 s (api/app.ts).
    let now = 0;
    const buckets = createTokenBuckets({ capacity: limits.generalPerMinute, periodSeconds: 60, maxKeys: 10, now: () => now });
    for (let i = 0; i < 600; i++) expect(buckets.take('203.0.113.1').allowed).toBe(true);
    expect(buckets.take('203.0.113.1').allowed).toBe(false);
    now += 99;
    expect(buckets.take('203.0.113.1').allowed).toBe(false);
    now += 1;
    expect(buckets.take('203.0.113.1').allowed).toBe(true);
    expect(buckets.take('203.0.113.1').allowed).toBe(false);
  });
});

describe('FrameBudget', () => {
  it('allows a burst of the whole budget, then refills evenly over the window', () => {
    let now = 0;
    const budget = new FrameBudget(10, 10_000, () => now);
    for (let i = 0; i < 10; i++) expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
    now = 999;
    expect(budget.take()).toBe(false);
    now = 1000;
    expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
    // Idle time refills no more than the budget.
    now = 1_000_000;
    for (let i = 0; i < 10; i++) expect(budget.take()).toBe(true);
    expect(budget.take()).toBe(false);
  });
});

describe('AddressSlots', () => {
  it('gives each address exactly its limit, and a slot back on release', () => {
    const slots = new AddressSlots(2);
    expect([slots.acquire('a'), slots.acquire('a'), slots.acquire('a'), slots.acquire('b')]).toEqual([true, true, false, true]);
    slots.release('a');
    expect(slots.acquire('a')).toBe(true);
    expect(slots.acquire('a')).toBe(false);
  });
});

describe('clientAddress', () => {
  it('believes only the last X-Forwarded-For entry, and only behind a trusted proxy', () => {
    const forwardedFor = '1.1.1.1, 2.2.2.2';
    expect(clientAddress({ forwardedFor, remote: '10.0.0.1', trustProxy: true })).toBe('2.2.2.2');
    expect(clientAddress({ forwardedFor, remote: '10.0.0.1', trustProxy: false })).toBe('10.0.0.1');
    expect(clientAddress({ forwardedFor: undefined, remote: '10.0.0.1', trustProxy: true })).toBe('10.0.0.1');
    expect(clientAddress({ forwardedFor: undefined, remote: undefined, trustProxy: false })).toBe('unknown');
  });
});

describe('addressHolder', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s → %s', (address, holder) => expect(addressHolder(address)).toBe(holder));
});

describe('anonymousViewerKey', () => {
  it('is the same on every gateway for one address, different for another, and does not show the address', () => {
    const key = anonymousViewerKey('secret-of-the-deployment', '203.0.113.7');
    expect(key).toBe(anonymousViewerKey('secret-of-the-deployment', '203.0.113.7'));
    expect(key).not.toBe(anonymousViewerKey('secret-of-the-deployment', '203.0.113.8'));
    expect(key).not.toBe(anonymousViewerKey('another-secret', '203.0.113.7'));
    expect(key).toMatch(/^a:[\w-]{22}$/);
  });
});
