import { z } from '@hono/zod-openapi';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { Video } from '../../lib/schema.ts';
import { searchAttributes, startIdempotently, type Temporal } from '../../lib/temporal.ts';
import { VIDEO_VISIBILITIES } from '../../lib/videos.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { videoPosterWorkflow } from '../../workflows/video-poster.ts';

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 30;

export const videoChangesSchema = z
  .object({
    title: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(5000).optional(),
    visibility: z.enum(VIDEO_VISIBILITIES).optional(),
    categoryId: z.uuid().nullable().optional().openapi({ description: 'An active category, or null for none' }),
    // Loose bounds here; the tag rules (normalizeTags) answer 422 naming the tag.
    tags: z
      .array(z.string().max(200))
      .max(100)
      .optional()
      .openapi({ description: `Trimmed, lower-cased and deduplicated; at most ${MAX_TAGS}, each 1–${MAX_TAG_LENGTH} characters` }),
    thumbnailAtSeconds: z.number().min(0).optional().openapi({ description: 'Take the poster again from this time (0 ≤ t < duration); the new poster appears when the `video/<id>/poster` workflow has run' }),
  })
  .strict();

export type VideoChanges = z.infer<typeof videoChangesSchema>;

const refuse = (field: string, message: string): never => {
  throw new AppError('unprocessable', message, [{ field, message }]);
};

/**
 * Tags as stored: each trimmed, inner whitespace collapsed to one space, lower-cased; the
 * same tag twice kept once (first place wins). An empty tag, one over 30 characters, or more
 * than 20 distinct tags is refused rather than silently cut, so nobody loses a tag unawares.
 */
export function normalizeTags(raw: string[]): string[] {
  const tags: string[] = [];
  for (const [i, tag] of raw.entries()) {
    const normal = tag.trim().replace(/\s+/g, ' ').toLowerCase();
    if (normal.length < 1 || normal.length > MAX_TAG_LENGTH) refuse(`tags.${i}`, `Each tag must be 1–${MAX_TAG_LENGTH} characters`);
    if (!tags.includes(normal)) tags.push(normal);
  }
  if (tags.length > MAX_TAGS) refuse('tags', `At most ${MAX_TAGS} distinct tags`);
  return tags;
}

export async function requireActiveCategory(db: Db, categoryId: string | null | undefined): Promise<void> {
  if (!categoryId) return;
  const category = await db.selectFrom('categories').select('id').where('id', '=', categoryId).where('is_active', '=', true).executeTakeFirst();
  if (!category) refuse('categoryId', 'No such active category');
}

/** A poster time this video can take a frame at: a ready video with pictures, strictly before its end. */
export function checkPosterTime(video: Video, atSeconds: number): void {
  if (video.status !== 'ready' || video.duration_seconds === null) refuse('thumbnailAtSeconds', 'The poster can be chosen once the video is ready');
  if (!video.width || !video.height) refuse('thumbnailAtSeconds', 'An audio-only video has no poster');
  if (atSeconds >= video.duration_seconds!) refuse('thumbnailAtSeconds', `Choose a time before the end (${video.duration_seconds} s)`);
}

/** Applies the changes (already checked); the poster time is recorded here and taken by the workflow. */
export async function updateVideo(db: Db, id: string, changes: Omit<VideoChanges, 'tags'> & { tags?: string[] }): Promise<Video> {
  const row = await db
    .updateTable('videos')
    .set({
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}),
      ...(changes.categoryId !== undefined ? { category_id: changes.categoryId } : {}),
      ...(changes.tags !== undefined ? { tags: changes.tags } : {}),
      ...(changes.thumbnailAtSeconds !== undefined ? { poster_at_seconds: changes.thumbnailAtSeconds } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such video');
  return row;
}

/**
 * Starts `video/<id>/poster` for the chosen time. A run still going for an earlier time is
 * replaced (its result would be superseded anyway); the same request retried starts it again,
 * which finds the poster already written.
 */
export async function startPosterRegeneration(temporal: Temporal, video: Video, atSeconds: number): Promise<void> {
  await startIdempotently(
    temporal.client.workflow.start<typeof videoPosterWorkflow>('videoPosterWorkflow', {
      workflowId: workflowIds.videoPoster(video.id),
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
      taskQueue: temporal.taskQueue,
      args: [{ videoId: video.id, sourceKey: video.source_key, atSeconds, display: { width: video.width!, height: video.height! }, mediaTaskQueue: temporal.mediaTaskQueue }],
      typedSearchAttributes: [
        { key: searchAttributes.VideoId, value: video.id },
        { key: searchAttributes.CreatorId, value: video.owner_id },
        { key: searchAttributes.Phase, value: 'queued' },
      ],
    }),
  );
}
