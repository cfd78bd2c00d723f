import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { App } from '../../api/app.ts';
import { sleep } from '../../lib/async.ts';
import type { Db } from '../../lib/db.ts';
import type { VideoSource, VideoStatus, VideoVisibility } from '../../lib/schema.ts';
import type { TestUser } from './fixtures.ts';
import { call } from './http.ts';

/** The path and query of an absolute API URL, for calling the app in-process. */
export const pathOf = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** Creates a video, PUTs the file to its presigned URL (real S3), and returns the created body. */
export async function uploadFile(app: App, user: TestUser, file: string, body: Record<string, unknown> = {}) {
  const created = await call(app, 'POST', '/api/v1/videos', { body: { title: 'Test video', ...body }, headers: user.auth });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const put = await fetch(created.json.data.uploadUrl, { method: 'PUT', body: await readFile(file) });
  if (!put.ok) throw new Error(`upload failed: ${put.status} ${await put.text()}`);
  return created.json.data as { video: { id: string }; uploadUrl: string; uploadExpiresAt: string };
}

/** Upload + complete: the transcode is running when this returns. */
export async function submitVideo(app: App, user: TestUser, file: string, body: Record<string, unknown> = {}): Promise<string> {
  const { video } = await uploadFile(app, user, file, body);
  const completed = await call(app, 'POST', `/api/v1/videos/${video.id}/complete`, { headers: user.auth });
  if (completed.status !== 202) throw new Error(`complete failed: ${completed.status} ${completed.text}`);
  return video.id;
}

/** Polls GET /videos/:id until the status is final; returns the video and every status seen. */
export async function settledVideo(app: App, user: TestUser, id: string, timeoutMs = 120_000) {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await call(app, 'GET', `/api/v1/videos/${id}`, { headers: user.auth });
    if (res.status !== 200) throw new Error(`GET video failed: ${res.status} ${res.text}`);
    const video = res.json.data;
    if (seen.at(-1) !== video.status) seen.push(video.status);
    if (video.status === 'ready' || video.status === 'failed') return { video, seen };
    await sleep(150);
  }
  throw new Error(`video ${id} did not settle within ${timeoutMs} ms (seen ${seen.join(' → ')})`);
}

export interface VideoRowFields {
  title?: string;
  description?: string;
  tags?: string[];
  categoryId?: string | null;
  visibility?: VideoVisibility;
  status?: VideoStatus;
  source?: VideoSource;
  hidden?: boolean;
  deleted?: boolean;
  viewCount?: number;
  ageRestricted?: boolean;
  durationSeconds?: number;
  createdAt?: Date;
}

/** A video row without media (ready by default, public, 5 s at 320×240): for tests about lists and rules, not playback. */
export async function insertVideo(db: Db, ownerId: string, fields: VideoRowFields = {}): Promise<string> {
  const row = await db
    .insertInto('videos')
    .values({
      owner_id: ownerId,
      title: fields.title ?? 'A video',
      description: fields.description ?? '',
      tags: fields.tags ?? [],
      category_id: fields.categoryId ?? null,
      view_count: fields.viewCount ?? 0,
      source: fields.source ?? 'upload',
      source_key: `uploads/${randomUUID()}`,
      status: fields.status ?? 'ready',
      visibility: fields.visibility ?? 'public',
      source_size_bytes: null,
      failure_reason: null,
      duration_seconds: fields.durationSeconds ?? 5,
      width: 320,
      height: 240,
      master_playlist_key: 'v/master.m3u8',
      poster_key: null,
      storyboard_key: null,
      idempotency_key: null,
      ready_at: new Date(),
      moderation_hidden_at: fields.hidden ? new Date() : null,
      age_restricted_at: fields.ageRestricted ? new Date() : null,
      deleted_at: fields.deleted ? new Date() : null,
      ...(fields.createdAt ? { created_at: fields.createdAt } : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
