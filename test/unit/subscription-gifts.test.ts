import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recipientOrder, recipientRank } from '../../lib/subscriptions/gifts.ts';

// Who a gift of subscriptions offers them to first (lib/subscriptions/gifts.ts): viewers of the
// room before followers, each in an order drawn from the gift's id, the same on every retry.

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('recipientOrder', () => {
  it('puts every viewer before any follower, and lists each person once', () => {
    const viewers = ids(6);
    const followers = [...ids(5), viewers[0]!, viewers[3]!];
    const order = recipientOrder(randomUUID(), [...viewers, viewers[1]!], followers);
    expect(order).toHaveLength(11);
    expect(new Set(order).size).toBe(11);
    expect(new Set(order.slice(0, 6))).toEqual(new Set(viewers));
    expect(new Set(order.slice(6))).toEqual(new Set(followers.slice(0, 5)));
  });

  it('is the same for the same gift whatever order the candidates come in (a retry picks the same people)', () => {
    const gift = randomUUID();
    const viewers = ids(20);
    const followers = ids(20);
    const first = recipientOrder(gift, viewers, followers);
    expect(recipientOrder(gift, [...viewers].reverse(), [...followers].reverse())).toEqual(first);
    expect(first.slice(0, 5)).toEqual(recipientOrder(gift, viewers, []).slice(0, 5));
  });

  it('draws a different order for another gift', () => {
    const viewers = ids(30);
    const orders = new Set(Array.from({ length: 5 }, () => recipientOrder(randomUUID(), viewers, []).join()));
    expect(orders.size).toBe(5);
  });

  it('ranks by md5 of `<giftId>:<userId>`, the order the SQL query reads candidates in (md5() there)', () => {
    const gift = randomUUID();
    const viewers = ids(10);
    const expected = [...viewers].sort((a, b) => {
      const [ha, hb] = [a, b].map((id) => createHash('md5').update(`${gift}:${id}`).digest('hex'));
      return ha! < hb! ? -1 : 1;
    });
    expect(recipientOrder(gift, viewers, [])).toEqual(expected);
    expect(recipientRank(gift, viewers[0]!)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('offers nobody when nobody is eligible', () => {
    expect(recipientOrder(randomUUID(), [], [])).toEqual([]);
  });
});
