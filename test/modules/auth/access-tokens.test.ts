import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AccessClaims, createAccessTokens } from '../../../src/modules/auth/access-tokens.js';

const SETTINGS = { secret: 'a'.repeat(48), issuer: 'mingus-api', audience: 'mingus-clients', ttlSeconds: 900 };
const T0 = new Date('2026-11-25T12:00:00.000Z');
const claims = (): AccessClaims => ({ sub: randomUUID(), role: 'user', sid: randomUUID() });

/** The same token with one character of `part` (0 header, 1 payload, 2 signature) changed. */
function tamper(token: string, part: 0 | 1 | 2): string {
  const parts = token.split('.');
  const text = parts[part] as string;
  const i = Math.floor(text.length / 2);
  parts[part] = `${text.slice(0, i)}${text[i] === 'A' ? 'B' : 'A'}${text.slice(i + 1)}`;
  return parts.join('.');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('access token verification', () => {
  it('a token verified once is answered from memory afterwards, with the same claims', () => {
    const tokens = createAccessTokens(SETTINGS);
    const mine = claims();
    const token = tokens.sign(mine);
    const verify = vi.spyOn(jwt, 'verify');
    expect(tokens.verify(token)).toEqual(mine);
    expect(tokens.verify(token)).toEqual(mine);
    expect(tokens.verify(token)).toEqual(mine);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('a remembered token stops verifying at the same second as one verified afresh: exp plus the 5 s tolerance', () => {
    const remembered = createAccessTokens(SETTINGS);
    const fresh = createAccessTokens({ ...SETTINGS, verifiedCacheSize: 0 });
    const token = remembered.sign(claims());
    expect(remembered.verify(token)).toBeDefined();

    vi.setSystemTime(T0.getTime() + (900 + 5) * 1000 - 1); // the last millisecond of its last valid second
    expect(remembered.verify(token)).toBeDefined();
    expect(fresh.verify(token)).toBeDefined();

    vi.setSystemTime(T0.getTime() + (900 + 5) * 1000);
    expect(remembered.verify(token)).toBeUndefined();
    expect(fresh.verify(token)).toBeUndefined();
    // Expired stays expired: the entry is gone, so the next look verifies the token again (and refuses it).
    const verify = vi.spyOn(jwt, 'verify');
    expect(remembered.verify(token)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('a token changed in its header, payload or signature is refused even while the genuine one is remembered', () => {
    const tokens = createAccessTokens(SETTINGS);
    const token = tokens.sign(claims());
    expect(tokens.verify(token)).toBeDefined();
    for (const part of [0, 1, 2] as const) expect(tokens.verify(tamper(token, part))).toBeUndefined();
    expect(tokens.verify(`${token} `)).toBeUndefined();
    expect(tokens.verify(token)).toBeDefined();
  });

  it('refusals are not remembered: a forged, foreign or malformed-claims token is checked, and refused, every time', () => {
    const tokens = createAccessTokens(SETTINGS);
    const { sub, role, sid } = claims();
    const signAs = (secret: string, audience: string, payload: object = { role, sid }, subject = sub) =>
      jwt.sign(payload, secret, { algorithm: 'HS256', subject, issuer: SETTINGS.issuer, audience, expiresIn: 900 });
    const refused = [
      signAs('b'.repeat(48), SETTINGS.audience), // another key
      signAs(SETTINGS.secret, 'another-service'), // another audience
      signAs(SETTINGS.secret, SETTINGS.audience, { role: 'superuser', sid }), // our key, a role we never issue
      signAs(SETTINGS.secret, SETTINGS.audience, { role, sid }, 'not-a-uuid'), // our key, a malformed subject
    ];
    const verify = vi.spyOn(jwt, 'verify');
    for (let i = 0; i < 3; i++) for (const token of refused) expect(tokens.verify(token)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(3 * refused.length);
  });

  it('a token far longer than ours is verified every time rather than remembered', () => {
    const tokens = createAccessTokens(SETTINGS);
    const { sub, role, sid } = claims();
    const padded = jwt.sign({ role, sid, padding: 'x'.repeat(2_000) }, SETTINGS.secret, {
      algorithm: 'HS256',
      subject: sub,
      issuer: SETTINGS.issuer,
      audience: SETTINGS.audience,
      expiresIn: 900,
    });
    const verify = vi.spyOn(jwt, 'verify');
    expect(tokens.verify(padded)).toBeDefined();
    expect(tokens.verify(padded)).toBeDefined();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('a memory size that is not a whole number of tokens is refused at construction', () => {
    for (const size of [Number.NaN, Number.POSITIVE_INFINITY, -1, 2.5]) {
      expect(() => createAccessTokens({ ...SETTINGS, verifiedCacheSize: size })).toThrow(/verifiedCacheSize/);
    }
  });

  it('another instance with another secret does not accept a token the first one remembers', () => {
    const first = createAccessTokens(SETTINGS);
    const second = createAccessTokens({ ...SETTINGS, secret: 'c'.repeat(48) });
    const token = first.sign(claims());
    expect(first.verify(token)).toBeDefined();
    expect(second.verify(token)).toBeUndefined();
  });

  it('a token without an expiry is refused, though correctly signed for this issuer and audience', () => {
    const tokens = createAccessTokens(SETTINGS);
    const { sub, role, sid } = claims();
    const eternal = jwt.sign({ role, sid }, SETTINGS.secret, {
      algorithm: 'HS256',
      subject: sub,
      issuer: SETTINGS.issuer,
      audience: SETTINGS.audience,
    });
    const verify = vi.spyOn(jwt, 'verify');
    expect(tokens.verify(eternal)).toBeUndefined();
    expect(tokens.verify(eternal)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(2); // refused every time, never remembered
  });

  it('the memory is bounded: past its size the oldest token is forgotten, and verified again when it returns', () => {
    const tokens = createAccessTokens({ ...SETTINGS, verifiedCacheSize: 2 });
    const [a, b, c] = [claims(), claims(), claims()].map((x) => tokens.sign(x)) as [string, string, string];
    const verify = vi.spyOn(jwt, 'verify');
    for (const token of [a, b, c]) tokens.verify(token);
    expect(verify).toHaveBeenCalledTimes(3);
    tokens.verify(c);
    expect(verify).toHaveBeenCalledTimes(3); // c and b are remembered
    tokens.verify(a);
    expect(verify).toHaveBeenCalledTimes(4); // a was forgotten, and is verified again
  });

  it('the claims handed out are frozen, so one request cannot change what the next one reads', () => {
    const tokens = createAccessTokens(SETTINGS);
    const token = tokens.sign(claims());
    tokens.verify(token);
    const remembered = tokens.verify(token);
    expect(Object.isFrozen(remembered)).toBe(true);
  });
});
