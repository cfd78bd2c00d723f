import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { originAllowed } from '../../lib/origins.ts';
import { isInternalCaller } from '../../lib/secrets.ts';

const required = {
  S3_ACCESS_KEY_ID: 'streamhub',
  S3_SECRET_ACCESS_KEY: 'x'.repeat(20),
  INTERNAL_SECRET: 'y'.repeat(20),
  JWT_SECRET: 'z'.repeat(40),
};

describe('CORS_ORIGINS', () => {
  it('defaults to the public API origin, where the web app is served', () => {
    expect(parseConfig(required).corsOrigins).toEqual(['http://localhost:3000']);
    expect(parseConfig({ ...required, PUBLIC_API_URL: 'https://tv.example.com/' }).corsOrigins).toEqual(['https://tv.example.com']);
  });

  it('takes a comma-separated list, normalised to origins, or *', () => {
    expect(parseConfig({ ...required, CORS_ORIGINS: 'https://a.example, https://b.example:8443/path' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
    expect(parseConfig({ ...required, CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    expect(() => parseConfig({ ...required, CORS_ORIGINS: 'not a url' })).toThrow(/CORS_ORIGINS/);
  });
});

describe('originAllowed', () => {
  const list = ['https://tv.example.com'];
  it('lets non-browser requests (no Origin) through', () => expect(originAllowed(undefined, list)).toBe(true));
  it('allows exactly the listed origins', () => {
    expect(originAllowed('https://tv.example.com', list)).toBe(true);
    expect(originAllowed('https://evil.example', list)).toBe(false);
    expect(originAllowed('http://tv.example.com', list)).toBe(false);
    expect(originAllowed('https://tv.example.com.evil.example', list)).toBe(false);
    expect(originAllowed('null', list)).toBe(false);
  });
  it('allows any origin with *', () => expect(originAllowed('https://anything.example', ['*'])).toBe(true));
});

describe('isInternalCaller', () => {
  const secret = 's'.repeat(24);
  const headers = (h: Record<string, string>) => (name: string) => h[name];
  it('accepts the secret as x-internal-secret or as a bearer token', () => {
    expect(isInternalCaller(headers({ 'x-internal-secret': secret }), secret)).toBe(true);
    expect(isInternalCaller(headers({ authorization: `Bearer ${secret}` }), secret)).toBe(true);
  });
  it('refuses a missing or wrong secret', () => {
    expect(isInternalCaller(headers({}), secret)).toBe(false);
    expect(isInternalCaller(headers({ 'x-internal-secret': 'nope' }), secret)).toBe(false);
    expect(isInternalCaller(headers({ authorization: 'Bearer nope' }), secret)).toBe(false);
  });
});
