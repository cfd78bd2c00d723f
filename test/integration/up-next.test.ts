import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/context.ts';
import { insertBulkUsers, insertCategories, newUser } from '../support/fixtures.ts';
import { call } from '../support/http.ts';
import { insertVideo } from '../support/videos.ts';

// GET /videos/:id/up-next (README "Up next"): co-watched videos first, then the category's
// most viewed by tags in common; public videos only, never the video itself.

const t = useTestApp();

async function watched(userIds: string[], videoIds: string[]): Promise<void> {
  await t.ctx.db
    .insertInto('watch_history')
    .values(userIds.flatMap((user_id) => videoIds.map((video_id) => ({ user_id, video_id, position_seconds: 1 }))))
    .execute();
}

const upNext = async (videoId: string, headers: Record<string, string> = {}) => {
  const res = await call(t.app, 'GET', `/api/v1/videos/${videoId}/up-next?limit=10`, { headers });
  expect(res.status, res.text).toBe(200);
  return (res.json.data as { id: string; reason: string }[]).map((v) => [v.id, v.reason]);
};

describe('up next', () => {
  it('lists what its viewers also watched by shared viewers, then its category by tags in common, public videos only', async () => {
    const owner = await newUser(t.app);
    const [category, otherCategory] = await insertCategories(t.ctx.db, 2);
    const video = (fields: Parameters<typeof insertVideo>[2] = {}) => insertVideo(t.ctx.db, owner.id, fields);
    const source = await video({ categoryId: category, tags: ['speedrun', 'minecraft', 'any%'] });
    const [sharedByThree, sharedByOne, privateButShared, manyTags, fewTagsButPopular, noTags, elsewhere] = [
      await video({ categoryId: otherCategory }),
      await video(),
      await video({ visibility: 'private' }),
      await video({ categoryId: category, tags: ['speedrun', 'minecraft'], viewCount: 5 }),
      await video({ categoryId: category, tags: ['minecraft'], viewCount: 500 }),
      await video({ categoryId: category, viewCount: 1000 }),
      await video({ categoryId: otherCategory, tags: ['speedrun', 'minecraft', 'any%'], viewCount: 10_000 }),
    ];
    const viewers = await insertBulkUsers(t.ctx.db, 4);
    await watched(viewers.slice(0, 3), [source!, sharedByThree!, privateButShared!]);
    await watched(viewers.slice(3), [source!, sharedByOne!]);
    // A co-watched video is not offered again by its category.
    await watched(viewers.slice(3), [noTags!]);

    expect(await upNext(source!)).toEqual([
      [sharedByThree, 'co_watched'],
      [noTags, 'co_watched'],
      [sharedByOne, 'co_watched'],
      [manyTags, 'same_category'],
      [fewTagsButPopular, 'same_category'],
    ]);
    expect((await upNext(source!)).map(([id]) => id)).not.toContain(elsewhere);
  });

  it('answers 404 for a video the caller may not see, like GET /videos/:id', async () => {
    const owner = await newUser(t.app);
    const hidden = await insertVideo(t.ctx.db, owner.id, { visibility: 'private' });
    expect((await call(t.app, 'GET', `/api/v1/videos/${hidden}/up-next`)).status).toBe(404);
    expect(await upNext(hidden, owner.auth)).toEqual([]);
    expect((await call(t.app, 'GET', `/api/v1/videos/${hidden}/up-next?limit=21`, { headers: owner.auth })).status).toBe(400);
  });
});
