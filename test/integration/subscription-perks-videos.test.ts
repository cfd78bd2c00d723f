import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context.ts';
import { newUser, setRole, type TestUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { insertSubscription, lapseSubscription } from '../support/subscriptions.ts';
import { insertVideo } from '../support/videos.ts';

// Subscriber-only videos (README "Subscriptions"): listed on their channel as such, played
// (details, playlists, views, comments, likes) only by the owner, admins and the channel's
// subscribers with perks; never in public lists or search.

const t = useTestApp();
let owner: TestUser;
let subscriber: TestUser;
let stranger: TestUser;
let formerSubscriber: TestUser;
let admin: TestUser;
let subscriptionId: string;
let secret: string;
let open: string;

beforeAll(async () => {
  [owner, subscriber, stranger, formerSubscriber, admin] = await Promise.all([newUser(t.app), newUser(t.app), newUser(t.app), newUser(t.app), newUser(t.app)]);
  await setRole(t.ctx.db, owner.id, 'creator');
  await setRole(t.ctx.db, admin.id, 'admin');
  subscriptionId = await insertSubscription(t.ctx.db, { subscriberId: subscriber.id, channelId: owner.id, tier: 1, periods: 2 });
  await insertSubscription(t.ctx.db, { subscriberId: formerSubscriber.id, channelId: owner.id, status: 'ended', periods: 6 });
  // A subscriber of another channel has no perks here.
  const otherChannel = await newUser(t.app);
  await insertSubscription(t.ctx.db, { subscriberId: stranger.id, channelId: otherChannel.id });
  secret = await insertVideo(t.ctx.db, owner.id, { title: 'Backstage zebrafish', visibility: 'subscribers' });
  open = await insertVideo(t.ctx.db, owner.id, { title: 'Public zebrafish' });
});

const get = (path: string, user?: TestUser) => call(t.app, 'GET', path, { headers: user?.auth ?? {} });

describe('subscriber-only videos', () => {
  it('can be created and edited as such by their owner', async () => {
    const created = await call(t.app, 'POST', '/api/v1/videos', { headers: owner.auth, body: { title: 'For subscribers', visibility: 'subscribers' } });
    expect(created.status, created.text).toBe(201);
    expect(created.json.data.video.visibility).toBe('subscribers');
    const edited = await call(t.app, 'PATCH', `/api/v1/videos/${open}`, { headers: owner.auth, body: { visibility: 'subscribers' } });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.json.data.visibility).toBe('subscribers');
    const back = await call(t.app, 'PATCH', `/api/v1/videos/${open}`, { headers: owner.auth, body: { visibility: 'public' } });
    expect(back.json.data.visibility).toBe('public');
    expect((await call(t.app, 'PATCH', `/api/v1/videos/${open}`, { headers: owner.auth, body: { visibility: 'members' } })).status).toBe(400);
  });

  it('are listed on the channel to everyone, with playback only for those who may watch', async () => {
    for (const [user, playable] of [
      [undefined, false],
      [stranger, false],
      [formerSubscriber, false],
      [subscriber, true],
      [owner, true],
      [admin, true],
    ] as const) {
      const res = await get(`/api/v1/users/${owner.id}/videos`, user);
      expect(res.status).toBe(200);
      const listed = res.json.data.find((v: { id: string }) => v.id === secret);
      expect(listed, `listed for ${user?.username ?? 'anonymous'}`).toMatchObject({ id: secret, visibility: 'subscribers', title: 'Backstage zebrafish' });
      expect(listed.playbackUrl === null, `playback for ${user?.username ?? 'anonymous'}`).toBe(!playable);
      expect(res.json.data.some((v: { id: string }) => v.id === open)).toBe(true);
    }
  });

  it('never appear in public lists or search', async () => {
    const everyone = await get('/api/v1/videos?limit=100', subscriber);
    expect(everyone.json.data.map((v: { id: string }) => v.id)).toContain(open);
    expect(everyone.json.data.map((v: { id: string }) => v.id)).not.toContain(secret);
    const byOwner = await get(`/api/v1/videos?ownerId=${owner.id}`, subscriber);
    expect(byOwner.json.data.map((v: { id: string }) => v.id)).toEqual([open]);
    const found = await get('/api/v1/search?q=zebrafish', subscriber);
    expect(found.status).toBe(200);
    const hits = found.json.data.map((h: { id: string }) => h.id);
    expect(hits).toContain(open);
    expect(hits).not.toContain(secret);
  });

  it('refuses details, playback, views, comments and likes with 403 subscribers_only to everyone else', async () => {
    for (const user of [undefined, stranger, formerSubscriber]) {
      const who = user?.username ?? 'anonymous';
      const details = await get(`/api/v1/videos/${secret}`, user);
      expect(details.status, who).toBe(403);
      expect(details.json.error.code).toBe('subscribers_only');
      expect(details.json.error.message).toBe("Only the channel's subscribers can watch this video");
      const master = await get(`/api/v1/videos/${secret}/hls/master.m3u8`, user);
      expect([master.status, master.json.error.code], who).toEqual([403, 'subscribers_only']);
      const upNext = await get(`/api/v1/videos/${secret}/up-next`, user);
      expect([upNext.status, upNext.json.error.code], who).toEqual([403, 'subscribers_only']);
      const comments = await get(`/api/v1/videos/${secret}/comments`, user);
      expect([comments.status, comments.json.error.code], who).toEqual([403, 'subscribers_only']);
      const view = await call(t.app, 'POST', `/api/v1/videos/${secret}/views`, { headers: user?.auth ?? {}, body: { positionSeconds: 0, deviceId: 'device-subscriber-test' } });
      expect([view.status, view.json.error.code], who).toEqual([403, 'subscribers_only']);
    }
    const comment = await call(t.app, 'POST', `/api/v1/videos/${secret}/comments`, { headers: stranger.auth, body: { body: 'let me see' } });
    expect([comment.status, comment.json.error.code]).toEqual([403, 'subscribers_only']);
    const like = await call(t.app, 'PUT', `/api/v1/videos/${secret}/like`, { headers: stranger.auth });
    expect([like.status, like.json.error.code]).toEqual([403, 'subscribers_only']);
    // A private video still does not reveal that it exists.
    const hidden = await insertVideo(t.ctx.db, owner.id, { visibility: 'private' });
    expect((await get(`/api/v1/videos/${hidden}`, stranger)).status).toBe(404);
  });

  it('plays to the owner, admins and subscribers with perks, until the perks end', async () => {
    for (const user of [owner, admin, subscriber]) {
      const details = await get(`/api/v1/videos/${secret}`, user);
      expect(details.status, user.username).toBe(200);
      expect(details.json.data.playbackUrl).toMatch(/\/hls\/master\.m3u8\?token=/);
    }
    // The playback token is what lets a player in; without it a subscriber is told to fetch a fresh one.
    const tokenless = await get(`/api/v1/videos/${secret}/hls/master.m3u8`, subscriber);
    expect([tokenless.status, tokenless.json.error.code]).toEqual([403, 'forbidden']);
    const view = await call(t.app, 'POST', `/api/v1/videos/${secret}/views`, { headers: subscriber.auth, body: { positionSeconds: 1 } });
    expect(view.status, view.text).toBe(200);
    const comment = await call(t.app, 'POST', `/api/v1/videos/${secret}/comments`, { headers: subscriber.auth, body: { body: 'worth it' } });
    expect(comment.status, comment.text).toBe(201);
    expect((await get(`/api/v1/videos/${secret}/comments`, subscriber)).json.data.map((c: { body: string }) => c.body)).toEqual(['worth it']);

    // The subscriber's history lists it with playback while the perks last.
    const history = async () => (await get('/api/v1/users/me/history', subscriber)).json.data.find((h: { videoId: string }) => h.videoId === secret);
    expect(new URL((await history()).video.playbackUrl).pathname).toBe(`/api/v1/videos/${secret}/hls/master.m3u8`);

    await lapseSubscription(t.ctx.db, subscriptionId);
    const details = await get(`/api/v1/videos/${secret}`, subscriber);
    expect([details.status, details.json.error.code]).toEqual([403, 'subscribers_only']);
    expect((await history()).video.playbackUrl).toBeNull();
    // The owner keeps the video and its comment.
    expect((await get(`/api/v1/videos/${secret}/comments`, owner)).json.data).toHaveLength(1);
  });
});
