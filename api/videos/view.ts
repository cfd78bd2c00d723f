import { z } from '@hono/zod-openapi';
import type { Config } from '../../lib/config.ts';
import { presignGet, type Storage } from '../../lib/s3.ts';
import type { Video } from '../../lib/schema.ts';
import type { PlaybackSigner } from './playback.ts';
import { webLinks } from '../../lib/web-urls.ts';
import { VIDEO_VISIBILITIES } from '../../lib/videos.ts';

const renditionSchema = z.object({
  name: z.string().openapi({ example: '720p' }),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  fps: z.number().nullable(),
  bandwidthKbps: z.number().int(),
});

export const videoCategorySchema = z.object({ id: z.uuid(), name: z.string(), slug: z.string() }).openapi('VideoCategory');
export type VideoCategory = z.infer<typeof videoCategorySchema>;

export const videoSchema = z
  .object({
    id: z.uuid(),
    ownerId: z.uuid(),
    title: z.string(),
    description: z.string(),
    visibility: z.enum(VIDEO_VISIBILITIES).openapi({ description: "`subscribers`: listed on the channel; details and playback only for the owner, admins and the channel's subscribers (403 `subscribers_only` for others)" }),
    source: z.enum(['upload', 'recording']),
    status: z.enum(['uploading', 'processing', 'ready', 'failed']),
    progress: z.number().int().min(0).max(100),
    failureReason: z.string().nullable(),
    transcodeAttempts: z.number().int(),
    durationSeconds: z.number().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    renditions: z.array(renditionSchema),
    ageRestricted: z.boolean().openapi({ description: 'Age-restricted by moderation: show an interstitial; anonymous viewers get no playback or storyboard URL' }),
    playbackUrl: z.string().nullable().openapi({ description: 'HLS master playlist; signed and expiring unless the video is public (and not age-restricted)' }),
    thumbnailUrl: z.string().nullable().openapi({ description: 'Poster image (short-lived URL)' }),
    storyboardUrl: z.string().nullable().openapi({ description: 'WebVTT thumbnail track for scrubbing previews' }),
    tags: z.array(z.string()),
    category: videoCategorySchema.nullable(),
    viewCount: z.number().int().min(0).openapi({ description: 'Counted views: exact on `GET /videos/{id}`; in lists, as of the last rollup (at most a minute behind)' }),
    thumbnailAtSeconds: z.number().nullable().openapi({ description: 'The poster time its owner chose; null: picked by the transcode' }),
    likeCount: z.number().int().min(0),
    likedByMe: z.boolean().nullable().openapi({ description: 'Whether the signed-in viewer likes it; null for anonymous viewers' }),
    commentCount: z.number().int().min(0).openapi({ description: 'Live comments on it, replies included (exact)' }),
    resumeAtSeconds: z
      .number()
      .min(0)
      .nullable()
      .openapi({ description: '`GET /videos/{id}` for a signed-in viewer: where they left off; null when they have not watched it, finished it, or in lists' }),
    createdAt: z.string(),
    readyAt: z.string().nullable(),
    webUrl: z.string().openapi({ description: 'The watch page in the web app' }),
  })
  .openapi('Video');

export type VideoView = z.infer<typeof videoSchema>;
export type VideoLinks = ReturnType<typeof createVideoLinks>;

/** Builds the URLs clients use to play a video; playlists go through the API, media straight to S3. */
export function createVideoLinks(config: Config, storage: Storage, playback: PlaybackSigner) {
  const ttl = config.videos.playbackUrlTtlSeconds;
  const web = webLinks(config.publicUrls.web);
  const base = (video: Video) => `${config.publicUrls.api}/api/v1/videos/${video.id}`;
  /** `?token=…` for videos that are not public or are age-restricted (the token is what lets a signed-in viewer's player in), empty otherwise. */
  const query = (video: Video) => (video.visibility === 'public' && !video.age_restricted_at ? '' : `?token=${playback.sign(video.id, new Date(Date.now() + ttl * 1000))}`);

  return {
    /** Segments must stay readable for a whole viewing, so they outlive the playlist link by the video's length. */
    segmentUrlTtlSeconds: (video: Video) => Math.min(7 * 86_400, ttl + Math.ceil(video.duration_seconds ?? 0)),

    /**
     * `signedIn`: an age-restricted video's playback URLs go only to signed-in viewers.
     * `likedByMe`: whether the signed-in viewer likes it (null for anonymous viewers, and
     * where it is not looked up: the owner's own upload answers). `categories`: the
     * video's category by id (videoCategories), null when it has none. `subscriberAccess`:
     * whether the caller may play a subscriber-only video (its owner, an admin, a subscriber
     * with perks); without it such a video is shown without playback or storyboard URLs.
     */
    async view(video: Video, signedIn: boolean, likedByMe: boolean | null, categories: ReadonlyMap<string, VideoCategory>, subscriberAccess = false): Promise<VideoView> {
      const ready = video.status === 'ready';
      const playable = ready && (signedIn || !video.age_restricted_at) && (video.visibility !== 'subscribers' || subscriberAccess);
      const token = playable ? query(video) : '';
      return {
        id: video.id,
        ownerId: video.owner_id,
        title: video.title,
        description: video.description,
        visibility: video.visibility,
        source: video.source,
        status: video.status,
        progress: video.progress,
        failureReason: video.failure_reason,
        transcodeAttempts: video.transcode_attempts,
        durationSeconds: video.duration_seconds,
        width: video.width,
        height: video.height,
        renditions: video.renditions.map(({ playlist: _playlist, ...r }) => r),
        ageRestricted: video.age_restricted_at !== null,
        playbackUrl: playable ? `${base(video)}/hls/master.m3u8${token}` : null,
        thumbnailUrl: ready && video.poster_key ? await presignGet(storage, video.poster_key, ttl, 'public') : null,
        storyboardUrl: playable && video.storyboard_key ? `${base(video)}/storyboard.vtt${token}` : null,
        tags: video.tags,
        category: (video.category_id && categories.get(video.category_id)) || null,
        viewCount: video.view_count,
        thumbnailAtSeconds: video.poster_at_seconds,
        likeCount: video.like_count,
        likedByMe,
        commentCount: video.comment_count,
        resumeAtSeconds: null,
        createdAt: video.created_at.toISOString(),
        readyAt: video.ready_at?.toISOString() ?? null,
        webUrl: web.video(video.id),
      };
    },
  };
}
