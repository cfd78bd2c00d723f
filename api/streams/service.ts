import { sql } from 'kysely';
import type { Config } from '../../lib/config.ts';
import type { Db } from '../../lib/db.ts';
import { AppError } from '../../lib/errors.ts';
import type { ChatMode, Stream, StreamStatus } from '../../lib/schema.ts';
import { FINISHED_STATUSES, LIVE_STATUSES } from '../../lib/streams.ts';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { searchAttributes, type Temporal } from '../../lib/temporal.ts';
import { hashStreamKey, newStreamKey } from '../../lib/tokens.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { StreamInput, streamWorkflow } from '../../workflows/stream.ts';
import { promoteToCreator } from '../users/service.ts';

interface NewStream {
  title: string;
  description: string;
  categoryId: string | null;
  scheduledAt: Date | null;
  reconnectWindowSeconds: number;
  visibility: 'public' | 'unlisted';
  mature: boolean;
  chatMode: ChatMode;
}

export type StreamTimings = Config['streams'];

/** The workflow's input, rebuilt from the row whenever the API (re)starts `stream/<id>`. */
function streamInput(stream: Stream, temporal: Temporal, timings: StreamTimings): StreamInput {
  return {
    streamId: stream.id,
    ownerId: stream.owner_id,
    title: stream.title,
    mediaTaskQueue: temporal.mediaTaskQueue,
    scheduledAt: stream.scheduled_at?.toISOString() ?? null,
    reconnectWindowSeconds: stream.reconnect_window_seconds,
    reminderLeadSeconds: timings.reminderLeadSeconds,
    scheduledGraceSeconds: timings.scheduledGraceSeconds,
    maxReconnects: timings.maxReconnects,
    idleCloseSeconds: timings.idleCloseDays * 86_400,
  };
}

export function streamStartOptions(stream: Stream, temporal: Temporal, timings: StreamTimings) {
  return {
    workflowId: workflowIds.stream(stream.id),
    taskQueue: temporal.taskQueue,
    args: [streamInput(stream, temporal, timings)] as [StreamInput],
    typedSearchAttributes: [
      { key: searchAttributes.StreamId, value: stream.id },
      { key: searchAttributes.CreatorId, value: stream.owner_id },
      { key: searchAttributes.Phase, value: stream.status },
    ],
  };
}

/**
 * Starts `stream/<id>` unless a run of it exists or ever existed (an ended stream stays ended).
 * True when this call started it.
 */
export async function ensureStreamWorkflow(stream: Stream, temporal: Temporal, timings: StreamTimings): Promise<boolean> {
  try {
    await temporal.client.workflow.start<typeof streamWorkflow>('streamWorkflow', {
      ...streamStartOptions(stream, temporal, timings),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** How far back an API process looks, when it starts, for streams whose workflow never started. */
const LOST_WORKFLOW_LOOKBACK_HOURS = 24;

/**
 * Starts the workflows that an API process dying between a stream's commit and its workflow
 * start (a crash, an OOM kill, a deploy) left unstarted: every API process does this when it
 * starts, for streams created in the last day that still wait for their first publish (a
 * publish starts a lost workflow itself). Idempotent, and safe beside a creation in flight:
 * the workflow id admits one run. Returns how many it started.
 */
export async function startLostStreamWorkflows(db: Db, temporal: Temporal, timings: StreamTimings): Promise<number> {
  const waiting = await db
    .selectFrom('streams')
    .selectAll()
    .where('status', 'in', ['idle', 'scheduled'])
    .where('created_at', '>', sql<Date>`now() - make_interval(hours => ${LOST_WORKFLOW_LOOKBACK_HOURS})`)
    .orderBy('created_at')
    .execute();
  let started = 0;
  for (const stream of waiting) if (await ensureStreamWorkflow(stream, temporal, timings)) started++;
  return started;
}

/**
 * Creates the stream and starts `stream/<id>`. The key is returned once and stored only as a
 * hash. If the workflow cannot start, the row goes too: no stream exists without its workflow
 * (a process that dies in between leaves the start to `startLostStreamWorkflows`).
 */
export async function createStream(
  db: Db,
  temporal: Temporal,
  timings: StreamTimings,
  ownerId: string,
  input: NewStream,
): Promise<{ stream: Stream; streamKey: string }> {
  const key = newStreamKey();
  const stream = await db.transaction().execute(async (tx) => {
    const row = await tx
      .insertInto('streams')
      .values({
        owner_id: ownerId,
        title: input.title,
        description: input.description,
        category_id: input.categoryId,
        scheduled_at: input.scheduledAt,
        status: input.scheduledAt ? 'scheduled' : 'idle',
        reconnect_window_seconds: input.reconnectWindowSeconds,
        visibility: input.visibility,
        mature: input.mature,
        chat_mode: input.chatMode,
        stream_key_hash: key.hash,
        stream_key_prefix: key.prefix,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await promoteToCreator(tx, ownerId);
    return row;
  });
  try {
    // Already started is fine: another process's startLostStreamWorkflows may have been first.
    await ensureStreamWorkflow(stream, temporal, timings);
  } catch (err) {
    await db.deleteFrom('streams').where('id', '=', stream.id).execute();
    throw new AppError('unavailable', 'Could not start the stream; try again', undefined, { cause: err });
  }
  return { stream, streamKey: key.key };
}

export async function findStream(db: Db, id: string): Promise<Stream> {
  const stream = await db.selectFrom('streams').selectAll().where('id', '=', id).executeTakeFirst();
  if (!stream) throw new AppError('not_found', 'No such stream');
  return stream;
}

export async function findStreamByKey(db: Db, key: string): Promise<Stream | undefined> {
  return db.selectFrom('streams').selectAll().where('stream_key_hash', '=', hashStreamKey(key)).executeTakeFirst();
}

/** A new key, refused while the stream is on air (the encoder is using the old one). */
export async function rotateStreamKey(db: Db, id: string): Promise<string> {
  const key = newStreamKey();
  const row = await db
    .updateTable('streams')
    .set({ stream_key_hash: key.hash, stream_key_prefix: key.prefix, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', 'not in', [...LIVE_STATUSES, ...FINISHED_STATUSES])
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new AppError('conflict', 'The key cannot change while the stream is live or after it ended');
  return key.key;
}

interface StreamListCursor {
  live: boolean;
  at: string;
  id: string;
}

/** Live streams first, then the newest; keyset pagination on (live, created_at, id). */
/** `all`: the owner's unlisted streams too (for the owner themself or an admin). */
export async function listStreams(db: Db, filter: { status?: StreamStatus; categoryId?: string; ownerId?: string; all?: boolean }, limit: number, after?: StreamListCursor) {
  const live = sql<boolean>`(status in (${sql.join(LIVE_STATUSES)}))`;
  let query = db
    .selectFrom('streams')
    .selectAll()
    .select([live.as('is_live'), sql<string>`created_at::text`.as('created_key')]);
  if (filter.ownerId) query = query.where('owner_id', '=', filter.ownerId);
  if (!(filter.ownerId && filter.all)) query = query.where('visibility', '=', 'public');
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.categoryId) query = query.where('category_id', '=', filter.categoryId);
  if (after) query = query.where(sql<boolean>`(${live}, created_at, id) < (${after.live}, ${after.at}::timestamptz, ${after.id}::uuid)`);
  return query
    .orderBy(live, 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
}
