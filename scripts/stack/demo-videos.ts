import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep } from '../../lib/async.ts';
import type { DemoSignIn } from './seed.ts';

// Demo videos for `npm start`, made the way a creator makes them: generated with FFmpeg,
// uploaded through the public API (create, PUT to the presigned URL, complete) and transcoded
// by the real workers; once they are ready the demo viewers watch and like them. Every step is
// safe to repeat: a video's Idempotency-Key is fixed, so a second start finds it (409 once it
// was processed, or deleted by someone) and uploads nothing; likes are PUTs.

export interface DemoVideo {
  /** Fixed per demo video: the upload's Idempotency-Key derives from it. */
  key: string;
  title: string;
  description: string;
  categorySlug: string;
  tags: string[];
  /** An FFmpeg lavfi video source, without duration. */
  picture: string;
  toneHz: number;
}

export const demoVideos: DemoVideo[] = [
  {
    key: 'welcome',
    title: 'Welcome to StreamHub',
    description: 'A short tour clip: uploaded, transcoded into an HLS ladder and played back by your own StreamHub.',
    categorySlug: 'education',
    tags: ['welcome', 'tour'],
    picture: 'testsrc2=size=1280x720:rate=30',
    toneHz: 440,
  },
  {
    key: 'colour-bars',
    title: 'Colour bars, explained',
    description: 'SMPTE HD colour bars and a reference tone: what broadcasters line their cameras up against.',
    categorySlug: 'creative',
    tags: ['art', 'video'],
    picture: 'smptehdbars=size=1280x720:rate=30',
    toneHz: 1000,
  },
  {
    key: 'game-of-life',
    title: 'Conway’s Game of Life, in HD',
    description: 'Cells are born and die by four simple rules.',
    categorySlug: 'education',
    tags: ['science', 'coding'],
    picture: 'life=size=640x360:rate=30:mold=10:ratio=0.1:death_color=#2a1f5c:life_color=#7cf0a0,scale=1280:720:flags=neighbor',
    toneHz: 330,
  },
];

export const DEMO_VIDEO_SECONDS = 10;
const DEMO_VIEWERS = ['viewer1', 'viewer2', 'viewer3'];

export interface ApiResponse {
  status: number;
  json: any;
  text: string;
}
/** A call to the public API: `fetch` against a running server, or the app in-process in tests. */
export type ApiCall = (method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }) => Promise<ApiResponse>;

export function httpApi(baseUrl: string): ApiCall {
  return async (method, apiPath, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${apiPath}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    const text = await res.text();
    return { status: res.status, json: text ? safeJson(text) : undefined, text };
  };
}

const safeJson = (text: string) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

async function expectStatus(res: Promise<ApiResponse>, what: string, ...statuses: number[]): Promise<ApiResponse> {
  const answer = await res;
  if (!statuses.includes(answer.status)) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
  return answer;
}

const run = promisify(execFile);

async function generateClip(dir: string, video: DemoVideo): Promise<string> {
  const out = path.join(dir, `${video.key}.mp4`);
  const seconds = String(DEMO_VIDEO_SECONDS);
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-t', seconds, '-i', video.picture,
    '-f', 'lavfi', '-t', seconds, '-i', `sine=frequency=${video.toneHz}:sample_rate=48000`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out,
  ]);
  return out;
}

/**
 * Uploads every demo video the creator has not had yet and starts its transcode. Returns the
 * ids of the demo videos it started (those found from an earlier start are not returned).
 */
export async function uploadDemoVideos(api: ApiCall, auth: Record<string, string>, videos: DemoVideo[] = demoVideos): Promise<string[]> {
  const categories = (await expectStatus(api('GET', '/api/v1/categories'), 'list categories', 200)).json.data as { id: string; slug: string }[];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'streamhub-demo-'));
  const started: string[] = [];
  try {
    for (const video of videos) {
      const headers = { ...auth, 'idempotency-key': `demo-video:${video.key}` };
      const created = await expectStatus(
        api('POST', '/api/v1/videos', { body: { title: video.title, description: video.description, visibility: 'public' }, headers }),
        `create "${video.title}"`,
        200, 201, 409,
      );
      // 409: this key's video was processed (or deleted) on an earlier start.
      if (created.status === 409) continue;
      const { video: row, uploadUrl } = created.json.data as { video: { id: string }; uploadUrl: string };
      const put = await fetch(uploadUrl, { method: 'PUT', body: await readFile(await generateClip(dir, video)) });
      if (!put.ok) throw new Error(`upload "${video.title}": ${put.status} ${await put.text()}`);
      const categoryId = categories.find((c) => c.slug === video.categorySlug)?.id ?? null;
      await expectStatus(api('PATCH', `/api/v1/videos/${row.id}`, { body: { categoryId, tags: video.tags }, headers: auth }), `describe "${video.title}"`, 200);
      await expectStatus(api('POST', `/api/v1/videos/${row.id}/complete`, { headers: auth }), `complete "${video.title}"`, 202);
      started.push(row.id);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return started;
}

/** Waits until each video is ready (or failed); returns the ready ones. */
export async function readyVideos(api: ApiCall, auth: Record<string, string>, ids: string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(ids);
  const ready: string[] = [];
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const { json } = await expectStatus(api('GET', `/api/v1/videos/${id}`, { headers: auth }), 'read a demo video', 200);
      if (json.data.status === 'ready') ready.push(id);
      if (json.data.status === 'ready' || json.data.status === 'failed') pending.delete(id);
    }
    if (pending.size > 0) await sleep(2000);
  }
  return ready;
}

/** The demo viewers watch each video (one counted view each, a position to resume from) and like it. */
export async function watchAndLike(api: ApiCall, signIn: DemoSignIn, ids: string[], viewers: string[] = DEMO_VIEWERS): Promise<void> {
  for (const [n, viewer] of viewers.entries()) {
    const auth = await signIn(viewer);
    for (const id of ids) {
      await expectStatus(api('POST', `/api/v1/videos/${id}/views`, { body: { positionSeconds: (n + 1) * 2 }, headers: auth }), `${viewer} watches ${id}`, 200, 202);
      await expectStatus(api('PUT', `/api/v1/videos/${id}/like`, { headers: auth }), `${viewer} likes ${id}`, 200);
    }
  }
}
