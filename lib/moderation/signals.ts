import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { ModerationConfig } from '../config.ts';
import type { Db } from '../db.ts';
import type { Logger } from '../logger.ts';
import type { Nats } from '../nats.ts';
import type { Database } from '../schema.ts';
import { workflowIds } from '../../workflows/ids.ts';
import type { ModerationCaseInput, moderationCaseWorkflow, ReportSignal } from '../../workflows/moderation.ts';
import { casePriority, reportReasons, type ReportReason, type TargetType } from '../../workflows/plans/moderation.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { openOrJoinCase } from './store.ts';
import type { HeldField } from './watched-store.ts';

// Automatic signals (watched words in chat, stream and video titles) enter a case exactly as
// reports do: the case row is opened or joined in Postgres, then the workflow gets the signal
// by `signalWithStart` on `moderation/<caseId>`. The signal is first written to an outbox
// (`moderation_signals`) in the same transaction as the case, and a relay delivers it: a
// signal outlives Temporal (or the relay) being away, and is delivered at least once.

type Executor = Kysely<Database> | Transaction<Database>;

export interface SignalIntake {
  targetType: TargetType;
  targetId: string;
  targetOwnerId: string | null;
  /** Live now: a stream on air or a message in the chat of one (the case is urgent). */
  liveTarget: boolean;
  /** e.g. `watched_words:chat`, `watched_words:title`. */
  source: string;
  reason: ReportReason;
  /** 1–100. */
  score: number;
  /** What set it off (the matched term, the field). */
  detail: Record<string, unknown>;
  /** The target as it was (evidence, kept if the owner deletes it). */
  snapshot: Record<string, unknown>;
}

/** Opens or joins the target's case and queues the signal for the relay; run it in the caller's transaction when there is one. */
export async function fileSignal(db: Executor, intake: SignalIntake): Promise<{ caseId: string; signalId: string }> {
  const work = async (tx: Executor) => {
    const priority = casePriority({ liveTarget: intake.liveTarget, reasons: [], reportCount: 0, signalScores: { [intake.reason]: intake.score }, signalCount: 1 });
    const { caseId } = await openOrJoinCase(tx, { ...intake, priority });
    const row = await tx
      .insertInto('moderation_signals')
      .values({ case_id: caseId, source: intake.source, reason: intake.reason, score: intake.score, detail: intake.detail, live_target: intake.liveTarget, delivered_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.updateTable('moderation_cases').set((eb) => ({ signal_count: eb('signal_count', '+', 1), updated_at: new Date() })).where('id', '=', caseId).execute();
    return { caseId, signalId: String(row.id) };
  };
  return db.isTransaction ? work(db) : (db as Kysely<Database>).transaction().execute(work);
}

export const signalRelaySubject = (nats: Nats) => nats.subject('moderation.signals');

/** Wakes the relays after a commit. Lossy on purpose: the relays poll the outbox anyway. */
export function nudgeSignalRelay(nats: Nats): void {
  try {
    nats.connection.publish(signalRelaySubject(nats), '');
  } catch {
    // Closed connection: the next poll delivers it.
  }
}

export interface SignalRelayDeps {
  db: Db;
  nats: Nats;
  client: Client;
  taskQueue: string;
  config: ModerationConfig;
  logger: Logger;
  /** How often the outbox is read without a nudge. */
  pollMs?: number;
}

const BATCH = 100;
/**
 * How long a relay's claim on a batch lasts: far longer than a batch of Temporal calls takes,
 * short enough that the batch of a relay that died mid-way is delivered by another soon after.
 */
const CLAIM_SECONDS = 60;

interface ClaimedSignal {
  id: string;
  case_id: string;
  source: string;
  reason: string;
  score: number;
  live_target: boolean;
}

/**
 * Delivers queued signals to their case workflows. Any number of relays may run (each API
 * process runs one). A relay claims a batch for a short lease in one statement (SKIP LOCKED),
 * calls Temporal with no transaction open, then marks what Temporal accepted as delivered and
 * releases the rest at once for the next round. Delivery is at least once, as before the lease:
 * a relay that dies after Temporal accepted a signal but before marking it delivers it again
 * when its lease runs out.
 */
export function createSignalRelay(deps: SignalRelayDeps) {
  const { db, client, config } = deps;
  const timings = { slaSeconds: config.slaSeconds, claimSeconds: config.claimSeconds, appealWindowSeconds: config.appealWindowSeconds, strikeSeconds: config.strikeSeconds };

  async function claimBatch(): Promise<ClaimedSignal[]> {
    const { rows } = await sql<ClaimedSignal>`
      update moderation_signals s set claimed_until = now() + make_interval(secs => ${CLAIM_SECONDS})
      where s.id in (
        select id from moderation_signals
        where delivered_at is null and (claimed_until is null or claimed_until < now())
        order by id limit ${BATCH}
        for update skip locked)
      returning s.id, s.case_id, s.source, s.reason, s.score, s.live_target`.execute(db);
    // RETURNING keeps no order; a case's signals are delivered in the order they were filed.
    return rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  async function deliverBatch(): Promise<{ delivered: number; more: boolean }> {
    const rows = await claimBatch();
    if (!rows.length) return { delivered: 0, more: false };
    const cases = new Map(
      (await db.selectFrom('moderation_cases').select(['id', 'target_type', 'target_id', 'target_owner_id']).where('id', 'in', [...new Set(rows.map((r) => r.case_id))]).execute()).map((c) => [
        c.id,
        c,
      ]),
    );
    const done: string[] = [];
    let failed: unknown;
    for (const row of rows) {
      const target = cases.get(row.case_id)!;
      const input: ModerationCaseInput = { caseId: row.case_id, targetType: target.target_type, targetId: target.target_id, targetOwnerId: target.target_owner_id, liveTarget: row.live_target, timings };
      try {
        await client.workflow.signalWithStart<typeof moderationCaseWorkflow, [ReportSignal]>('moderationCaseWorkflow', {
          workflowId: workflowIds.moderation(row.case_id),
          taskQueue: deps.taskQueue,
          args: [input],
          signal: 'report',
          signalArgs: [{ reportId: `signal:${row.id}`, reason: row.reason as ReportReason, source: row.source, score: row.score }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: searchAttributes.Phase, value: 'open' },
            { key: searchAttributes.TargetId, value: `${target.target_type}:${target.target_id}` },
          ],
        });
      } catch (err) {
        // The case ran to its end before its signal came: the signal stays on the case row's record.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
          failed = err;
          break;
        }
      }
      done.push(row.id);
    }
    if (done.length) await db.updateTable('moderation_signals').set({ delivered_at: new Date(), claimed_until: null }).where('id', 'in', done).execute();
    const left = rows.slice(done.length).map((r) => r.id);
    if (left.length) await db.updateTable('moderation_signals').set({ claimed_until: null }).where('id', 'in', left).where('delivered_at', 'is', null).execute();
    if (failed) deps.logger.warn({ err: failed, pending: left.length }, 'could not deliver moderation signals; retrying on the next round');
    return { delivered: done.length, more: !failed && rows.length === BATCH };
  }

  let running: Promise<number> | undefined;
  let again = false;
  /** Delivers everything queued; concurrent calls share one run (and one more after it). */
  function drain(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        for (;;) {
          const { delivered, more } = await deliverBatch();
          total += delivered;
          if (!more) break;
        }
      } while (again);
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const safeDrain = () => void drain().catch((err: unknown) => deps.logger.warn({ err }, 'moderation signal relay round failed'));

  /** Polls every `pollMs` and wakes on each nudge; returns the stop function. */
  function start(): () => Promise<void> {
    const subscription = deps.nats.connection.subscribe(signalRelaySubject(deps.nats), { callback: () => safeDrain() });
    const timer = setInterval(safeDrain, deps.pollMs ?? 5000);
    safeDrain();
    return async () => {
      clearInterval(timer);
      subscription.unsubscribe();
      await running?.catch(() => 0);
    };
  }

  return { drain, start };
}

/** Files one signal per held field of a title/description edit (`watched_words:<field>`) and wakes the relays. */
export async function fileWatchedSignals(
  deps: { db: Db; nats: Nats },
  target: { targetType: 'stream' | 'video'; targetId: string; ownerId: string; live: boolean; snapshot: Record<string, unknown> },
  held: readonly HeldField[],
): Promise<string[]> {
  if (!held.length) return [];
  const caseIds = await deps.db.transaction().execute(async (tx) => {
    const ids: string[] = [];
    for (const { field, hit } of held) {
      const filed = await fileSignal(tx, {
        targetType: target.targetType,
        targetId: target.targetId,
        targetOwnerId: target.ownerId,
        liveTarget: target.live,
        source: `watched_words:${field}`,
        reason: asReason(hit.reason),
        score: hit.score ?? 50,
        detail: { field, term: hit.term },
        snapshot: target.snapshot,
      });
      ids.push(filed.caseId);
    }
    return ids;
  });
  nudgeSignalRelay(deps.nats);
  return [...new Set(caseIds)];
}

export const asReason = (reason: string | undefined): ReportReason => ((reportReasons as readonly string[]).includes(reason ?? '') ? (reason as ReportReason) : 'other');
