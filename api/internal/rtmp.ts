import { z } from '@hono/zod-openapi';
import { accountBlock } from '../../lib/access.ts';
import type { Db } from '../../lib/db.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { publishingClients } from '../../lib/rtmp.ts';
import { FINISHED_STATUSES, reportedRecording } from '../../lib/streams.ts';
import type { Temporal } from '../../lib/temporal.ts';
import { workflowIds } from '../../workflows/ids.ts';
import { publishEndedSignal, publishStartedSignal, recordingReadySignal, type streamWorkflow } from '../../workflows/stream.ts';
import { createRouter } from '../router.ts';
import { findStreamByKey, streamStartOptions, type StreamTimings } from '../streams/service.ts';

// nginx-rtmp's callbacks (DESIGN.md §5, ingest). nginx treats 2xx as "allow", 3xx on publish
// as "allow under the name in Location", anything else as "refuse"; the answers to
// publish-done and record-done are ignored. Bodies are form-encoded.

const publishForm = z.object({ name: z.string().min(1).max(200), clientid: z.string().min(1).max(40), addr: z.string().max(100).optional() });
const doneForm = z.object({ name: z.string().min(1).max(200), clientid: z.string().min(1).max(40) });
const recordForm = z.object({ name: z.string().min(1).max(200), path: z.string().min(1).max(4096) });

const uuid = z.uuid();

/** Why the stream's owner may not broadcast (deleted, banned, suspended), or undefined when they may. */
async function ownerBlock(db: Db, ownerId: string): Promise<string | undefined> {
  const owner = await db.selectFrom('users').select(['status', 'suspended_until', 'deleted_at']).where('id', '=', ownerId).executeTakeFirst();
  if (!owner || owner.deleted_at) return 'account_deleted';
  return accountBlock(owner)?.code;
}

export function rtmpRoutes(deps: { db: Db; temporal: Temporal; timings: StreamTimings; relayUrl: string; controlUrl: string; recordingsDir: string }) {
  const { db, temporal } = deps;
  const router = createRouter();
  const form = async <T extends z.ZodTypeAny>(c: { req: { parseBody(): Promise<Record<string, unknown>> } }, schema: T) =>
    schema.safeParse(await c.req.parseBody());

  // Signal first, so the session row never says ended while the workflow thinks it is live.
  async function endSession(streamId: string, sessionId: string, reason: string): Promise<void> {
    await temporal.client.workflow.getHandle(workflowIds.stream(streamId)).signal(publishEndedSignal, { sessionId });
    await db.updateTable('stream_sessions').set({ ended_at: new Date(), end_reason: reason }).where('id', '=', sessionId).execute();
  }

  /** True when the stream's open session was stale and is now closed (and the workflow told). */
  async function closeStaleSession(streamId: string): Promise<boolean> {
    const open = await db.selectFrom('stream_sessions').select(['id', 'client_id']).where('stream_id', '=', streamId).where('ended_at', 'is', null).executeTakeFirst();
    if (!open) return true;
    const live = await publishingClients(deps.controlUrl).catch(() => null);
    // Not knowing is not proof: without nginx's answer the open session stands.
    if (!live || live.has(open.client_id)) return false;
    await endSession(streamId, open.id, 'stale: nginx no longer had this encoder');
    return true;
  }

  /** A publish with a stream key: allowed once per stream at a time, renamed to the stream id. */
  router.post('/publish', async (c) => {
    const parsed = await form(c, publishForm);
    if (!parsed.success) return c.text('bad request', 400);
    const { name: key, clientid, addr } = parsed.data;
    const log = c.get('log');
    const stream = await findStreamByKey(db, key);
    if (!stream) {
      log.warn({ addr }, 'publish refused: unknown stream key');
      return c.text('unknown stream key', 403);
    }
    if (FINISHED_STATUSES.includes(stream.status)) {
      log.warn({ streamId: stream.id, addr }, `publish refused: the stream has ${stream.status}`);
      return c.text(`stream ${stream.status}`, 403);
    }
    // Checked on every publish, reconnects included: a key outlives a ban.
    const blocked = await ownerBlock(db, stream.owner_id);
    if (blocked) {
      log.warn({ streamId: stream.id, ownerId: stream.owner_id, reason: blocked, addr }, 'publish refused: the owner\'s account may not broadcast');
      return c.text('account not active', 403);
    }
    const openSession = () =>
      db
        .insertInto('stream_sessions')
        .values({ stream_id: stream.id, client_id: clientid, client_addr: addr ?? null })
        .returning('id')
        .executeTakeFirstOrThrow()
        .then((s) => s.id);
    let sessionId: string;
    try {
      sessionId = await openSession();
    } catch (err) {
      if (!isUniqueViolation(err, 'stream_sessions_one_live')) throw err;
      // An open session whose encoder nginx no longer has (nginx restarted, a hook was lost)
      // must not lock the creator out: close it and let this publish in.
      if (!(await closeStaleSession(stream.id))) {
        log.warn({ streamId: stream.id, addr }, 'publish refused: the stream already has a publisher');
        return c.text('already publishing', 409);
      }
      sessionId = await openSession();
    }
    try {
      // With start: the workflow normally exists since creation; this also revives a lost
      // one. Never a second run after the first closed: an ended stream stays ended.
      await temporal.client.workflow.signalWithStart<typeof streamWorkflow, [{ sessionId: string }]>('streamWorkflow', {
        ...streamStartOptions(stream, temporal, deps.timings),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        signal: publishStartedSignal,
        signalArgs: [{ sessionId }],
      });
    } catch (err) {
      await db.deleteFrom('stream_sessions').where('id', '=', sessionId).execute();
      log.error({ err, streamId: stream.id }, 'publish refused: could not signal the stream workflow');
      return c.text('unavailable', 503);
    }
    log.info({ streamId: stream.id, sessionId, addr }, 'publish accepted');
    // An rtmp:// Location makes nginx relay the publish to the broadcast application under
    // the stream id, which writes HLS and recordings: the key never reaches a public path.
    return c.redirect(`${deps.relayUrl}/${stream.id}`, 302);
  });

  /** The encoder's connection ended (the ingest application reports it under the key). */
  router.post('/publish-done', async (c) => {
    const parsed = await form(c, doneForm);
    if (!parsed.success) return c.text('ignored', 200);
    const stream = await findStreamByKey(db, parsed.data.name);
    if (!stream) return c.text('ignored', 200);
    const streamId = stream.id;
    const session = await db
      .selectFrom('stream_sessions')
      .select('id')
      .where('stream_id', '=', streamId)
      .where('client_id', '=', parsed.data.clientid)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    if (session) await endSession(streamId, session.id, 'publisher disconnected');
    return c.text('ok', 200);
  });

  /**
   * A recording file was closed (the broadcast application reports it under the stream id).
   * The reported path is only compared with what nginx must have written; the workflow gets
   * the file's name, which the media worker resolves inside its own recordings directory.
   */
  router.post('/record-done', async (c) => {
    const parsed = await form(c, recordForm);
    if (!parsed.success || !uuid.safeParse(parsed.data.name).success) return c.text('ignored', 200);
    const streamId = parsed.data.name;
    const file = reportedRecording(deps.recordingsDir, streamId, parsed.data.path);
    if (!file) {
      c.get('log').warn({ streamId, path: parsed.data.path.slice(0, 300), recordingsDir: deps.recordingsDir }, 'record-done ignored: not a recording of this stream in RTMP_RECORDINGS_DIR');
      return c.text('ignored', 200);
    }
    await temporal.client.workflow.getHandle(workflowIds.stream(streamId)).signal(recordingReadySignal, { file });
    return c.text('ok', 200);
  });

  return router;
}
