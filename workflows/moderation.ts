import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ModerationActivities } from '../activities/moderation.ts';
import {
  casePriority,
  decisionActions,
  escalate,
  interimDue,
  interimEffects,
  INTERIM_REASONS,
  INTERIM_REPORTERS,
  isModerator,
  planEffects,
  policyRules,
  reversible,
  reviewConflict,
  type CasePhase,
  type Decision,
  type Effect,
  type Priority,
  type ReportReason,
  type SignalScores,
  type TargetType,
  withSignal,
} from './plans/moderation.ts';
import { searchAttributes } from './search-attributes.ts';

// `moderation/<caseId>`: every report on one target joins one case (signalWithStart). The
// `Phase` search attribute tells an operator where it stands:
//   open      waiting for a moderator; the SLA timer of its priority escalates it when it lapses
//   claimed   one moderator holds it (the claim lapses after `claimSeconds`)
//   decided   the decision's effects are applied; the affected user may appeal until the window ends
//   appealed  waiting for a different moderator's ruling on the appeal
//   closed    nothing left to decide; a suspension's lift or a strike's expiry may still be due

export interface ModerationTimings {
  /** Per priority: how long a case may wait for a decision before it escalates. */
  slaSeconds: Record<Priority, number>;
  claimSeconds: number;
  appealWindowSeconds: number;
  strikeSeconds: number;
}

export interface ModerationCaseInput {
  caseId: string;
  targetType: TargetType;
  targetId: string;
  /** The account a decision acts on: the content's owner, or the reported user. */
  targetOwnerId: string | null;
  /** A live stream or a chat message of one: urgent whatever the reason. */
  liveTarget: boolean;
  timings: ModerationTimings;
  /** Continue as new past this many events (Temporal suggests it anyway near its limits). */
  maxHistoryEvents?: number;
  carried?: ModerationCaseState;
}

export interface RecordedDecision extends Decision {
  by: string;
  /** Workflow time (ms). */
  at: number;
  effects: Effect[];
}

export interface ModerationCaseState {
  phase: CasePhase;
  priority: Priority;
  reports: number;
  reasons: ReportReason[];
  claim: { by: string; until: number } | null;
  slaDueAt: number;
  escalations: number;
  decision: RecordedDecision | null;
  /** How many of `decision.effects` are applied. */
  applied: number;
  notified: boolean;
  suspensionEndsAt: number | null;
  /** The `users.suspended_until` this case set. */
  suspendedUntil?: string | null;
  strikeExpiresAt: number | null;
  appealDeadline: number | null;
  appeal: { by: string; message: string } | null;
  appealRuling: { by: string; upheld: boolean; note: string } | null;
  /** How many effects an upheld appeal has undone. */
  reversed: number;
  appealNotified: boolean;
  runs: number;
  /** Automatic signals (absent in cases started before they existed). */
  signals?: number;
  signalScores?: SignalScores;
  /** Up to INTERIM_REPORTERS distinct reports of an interim reason. */
  severeReports?: { reportId: string; reason: ReportReason; trusted?: boolean }[];
  /** The interim measure applied pending review, and how many of its effects are lifted. */
  interim?: Effect[] | null;
  interimLifted?: number;
}

/** A user's report, or an automatic signal (`source` and `score` set; `reportId` is `signal:<id>`). */
export interface ReportSignal {
  reportId: string;
  reason: ReportReason;
  /** The case's count of distinct reporters once this report was filed: a repeated report counts once. */
  reportCount?: number;
  source?: string;
  /** 1–100. */
  score?: number;
  /**
   * False when the reporter alone may not trigger an interim measure: their account is younger
   * than `MODERATION_INTERIM_REPORTER_MIN_AGE_HOURS` or not in good standing (see interimDue).
   */
  trusted?: boolean;
}
export interface ReviewerInput {
  moderatorId: string;
  role: string;
}
export type DecideInput = ReviewerInput & Decision;
export interface AppealInput {
  userId: string;
  message: string;
}
export type AppealRulingInput = ReviewerInput & { upheld: boolean; note: string };

export const reportSignal = defineSignal<[ReportSignal]>('report');
export const caseStateQuery = defineQuery<ModerationCaseState>('state');
export const claimUpdate = defineUpdate<{ claimedUntil: string }, [ReviewerInput]>('claim');
export const decideUpdate = defineUpdate<{ effects: Effect[] }, [DecideInput]>('decide');
export const appealUpdate = defineUpdate<{ appealDeadline: string }, [AppealInput]>('appeal');
export const ruleOnAppealUpdate = defineUpdate<{ upheld: boolean; reversed: Effect[] }, [AppealRulingInput]>('ruleOnAppeal');

const REFUSALS = ['Forbidden', 'Conflict', 'WrongPhase', 'ClaimedByOther', 'Invalid', 'AppealWindowClosed'];
// Each effect is a few statements and a signal: a worker that died mid-effect is given up on
// (and the effect retried elsewhere) within 20 s, so a ban is never held up for long.
const activities = proxyActivities<ModerationActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: REFUSALS },
});

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
// The workflow clock (deterministic in workflow code).
const now = () => new Date().getTime();
const MAX_NOTE = 2000;

export async function moderationCaseWorkflow(input: ModerationCaseInput): Promise<ModerationCaseState> {
  // Cases whose history predates interim measures replay without them.
  const interimMeasures = patched('moderation-interim-measures');
  const { caseId, targetOwnerId, timings } = input;
  const sla = (p: Priority) => timings.slaSeconds[p] * 1000;
  const initialPriority = casePriority({ liveTarget: input.liveTarget, reasons: [], reportCount: 0 });
  const state: ModerationCaseState = input.carried ?? {
    phase: 'open',
    priority: initialPriority,
    reports: 0,
    reasons: [],
    claim: null,
    slaDueAt: now() + sla(initialPriority),
    escalations: 0,
    decision: null,
    applied: 0,
    notified: false,
    suspensionEndsAt: null,
    strikeExpiresAt: null,
    appealDeadline: null,
    appeal: null,
    appealRuling: null,
    reversed: 0,
    appealNotified: false,
    runs: 1,
  };
  let priorityChanged = !input.carried;
  let busy = false;

  const setPhase = (phase: CasePhase) => {
    state.phase = phase;
    upsertSearchAttributes([{ key: searchAttributes.Phase, value: phase }]);
  };
  const targetIsNotMedia = () => input.targetType !== 'video' && input.targetType !== 'stream';
  const interimPending = () => interimMeasures && state.interim == null && state.decision === null && interimDue({ severeReports: state.severeReports ?? [], signalScores: state.signalScores });
  const claimHeld = () => state.claim !== null && state.claim.until > now();
  const assertReviewer = ({ moderatorId, role }: ReviewerInput, forAppeal = false) => {
    if (!isModerator(role)) throw refuse('Forbidden', 'Only moderators and admins review cases');
    const conflict = reviewConflict({ reviewerId: moderatorId, targetOwnerId, decidedBy: state.decision?.by, forAppeal });
    if (conflict) throw refuse('Conflict', `A moderator may not review this case (${conflict})`);
  };

  setHandler(caseStateQuery, () => state);
  setHandler(reportSignal, ({ reportId, reason, reportCount, source, score, trusted }) => {
    if (source !== undefined) {
      state.signals = (state.signals ?? 0) + 1;
      state.signalScores = withSignal(state.signalScores ?? {}, { reason, score: score ?? 1 });
    } else {
      // Reports without a count, and cases begun before counts (whose replay must schedule what
      // it did then), count one each.
      state.reports = reportCount === undefined || !interimMeasures ? state.reports + 1 : Math.max(state.reports, reportCount);
      if (!state.reasons.includes(reason)) state.reasons.push(reason);
      const severe = (state.severeReports ??= []);
      if (INTERIM_REASONS.includes(reason) && severe.length < INTERIM_REPORTERS && !severe.some((r) => r.reportId === reportId)) severe.push({ reportId, reason, ...(trusted === undefined ? {} : { trusted }) });
    }
    if (state.phase !== 'open' && state.phase !== 'claimed') return;
    const next = casePriority({ liveTarget: input.liveTarget, reasons: state.reasons, reportCount: state.reports, signalScores: state.signalScores, signalCount: state.signals, current: state.priority });
    if (next !== state.priority) {
      state.priority = next;
      state.slaDueAt = Math.min(state.slaDueAt, now() + sla(next));
      priorityChanged = true;
    }
  });

  setHandler(
    claimUpdate,
    async (reviewer) => {
      busy = true;
      try {
        const until = now() + timings.claimSeconds * 1000;
        // The database check the validator cannot make: the moderator is not among the reporters.
        await activities.claimCase({ caseId, moderatorId: reviewer.moderatorId, claimExpiresAt: new Date(until).toISOString() });
        state.claim = { by: reviewer.moderatorId, until };
        setPhase('claimed');
        return { claimedUntil: new Date(until).toISOString() };
      } finally {
        busy = false;
      }
    },
    {
      validator: (reviewer) => {
        assertReviewer(reviewer);
        if (state.phase !== 'open' && state.phase !== 'claimed') throw refuse('WrongPhase', `The case is ${state.phase}`);
        if (busy) throw refuse('WrongPhase', 'The case is changing; try again');
        if (claimHeld() && state.claim!.by !== reviewer.moderatorId) throw refuse('ClaimedByOther', 'Another moderator is reviewing this case');
      },
    },
  );

  setHandler(
    decideUpdate,
    async ({ moderatorId, action, rule, note, durationSeconds }) => {
      busy = true;
      try {
        const decision: Decision = { action, rule, note, ...(action === 'suspend' ? { durationSeconds } : {}) };
        const effects = planEffects(decision, { type: input.targetType, id: input.targetId, ownerId: targetOwnerId });
        await activities.recordDecision({ caseId, moderatorId, decision, effects });
        state.decision = { ...decision, by: moderatorId, at: now(), effects };
        state.claim = null;
        setPhase('decided');
        return { effects };
      } finally {
        busy = false;
      }
    },
    {
      validator: (input) => {
        assertReviewer(input);
        if (state.phase !== 'claimed' || busy) throw refuse('WrongPhase', `The case is ${state.phase}: claim it first`);
        if (!claimHeld() || state.claim!.by !== input.moderatorId) throw refuse('ClaimedByOther', 'Claim the case before deciding it (claims lapse)');
        if (!decisionActions.includes(input.action)) throw refuse('Invalid', `Unknown action ${input.action}`);
        if (!policyRules.includes(input.rule)) throw refuse('Invalid', `Unknown policy rule ${input.rule}`);
        if (typeof input.note !== 'string' || input.note.length > MAX_NOTE) throw refuse('Invalid', `A note is at most ${MAX_NOTE} characters`);
        if (input.action === 'suspend' && !(Number.isInteger(input.durationSeconds) && input.durationSeconds! > 0)) throw refuse('Invalid', 'A suspension needs durationSeconds');
        if (input.action !== 'dismiss' && !targetOwnerId) throw refuse('Invalid', 'This target has no account to act on; only dismiss applies');
        if (input.action === 'age_restrict' && targetIsNotMedia()) throw refuse('Invalid', 'Only a video or a stream can be age-restricted');
      },
    },
  );

  setHandler(
    appealUpdate,
    async ({ userId, message }) => {
      busy = true;
      try {
        await activities.recordAppeal({ caseId, userId, message });
        state.appeal = { by: userId, message };
        setPhase('appealed');
        return { appealDeadline: new Date(state.appealDeadline!).toISOString() };
      } finally {
        busy = false;
      }
    },
    {
      validator: ({ userId, message }) => {
        if (userId !== targetOwnerId) throw refuse('Forbidden', 'Only the affected user may appeal');
        const carriedOut = state.applied >= (state.decision?.effects.length ?? 0) && (state.interimLifted ?? 0) >= (state.interim?.length ?? 0);
        if (state.phase !== 'decided' || !carriedOut || busy) throw refuse('WrongPhase', `The case is ${state.phase}`);
        if (state.decision?.action === 'dismiss') throw refuse('WrongPhase', 'A dismissed case has nothing to appeal');
        if (state.appeal) throw refuse('WrongPhase', 'This decision was already appealed');
        if (state.appealDeadline === null || now() > state.appealDeadline) throw refuse('AppealWindowClosed', 'The appeal window has closed');
        if (typeof message !== 'string' || message.length > MAX_NOTE) throw refuse('Invalid', `An appeal is at most ${MAX_NOTE} characters`);
      },
    },
  );

  setHandler(
    ruleOnAppealUpdate,
    async ({ moderatorId, upheld, note }) => {
      busy = true;
      try {
        await activities.recordAppealRuling({ caseId, moderatorId, upheld, note });
        state.appealRuling = { by: moderatorId, upheld, note };
        return { upheld, reversed: upheld ? state.decision!.effects.filter(reversible) : [] };
      } finally {
        busy = false;
      }
    },
    {
      validator: (input) => {
        assertReviewer(input, true);
        if (state.phase !== 'appealed' || state.appealRuling || busy) throw refuse('WrongPhase', `The case is ${state.phase}, not appealed`);
        if (typeof input.note !== 'string' || input.note.length > MAX_NOTE) throw refuse('Invalid', `A note is at most ${MAX_NOTE} characters`);
      },
    },
  );

  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.maxHistoryEvents ?? 5000);
  const carryOn = async (): Promise<never> => {
    await condition(() => allHandlersFinished() && !busy);
    return continueAsNew<typeof moderationCaseWorkflow>({ ...input, carried: { ...state, runs: state.runs + 1 } });
  };
  /** Waits for `done()` or the workflow-clock `deadline`; a full history continues as new from here. */
  const waitUntil = async (done: () => boolean, deadline: number | null) => {
    const woken = () => done() || historyFull();
    if (deadline === null) await condition(woken);
    else await condition(woken, Math.max(deadline - now(), 1));
    if (!done() && historyFull()) await carryOn();
  };

  upsertSearchAttributes([
    { key: searchAttributes.Phase, value: state.phase },
    { key: searchAttributes.TargetId, value: `${input.targetType}:${input.targetId}` },
  ]);

  // Review: claims lapse, unmet SLAs escalate, until a decision comes.
  while (state.phase === 'open' || state.phase === 'claimed') {
    if (priorityChanged) {
      priorityChanged = false;
      await activities.setCasePriority({ caseId, priority: state.priority, slaDueAt: new Date(state.slaDueAt).toISOString() });
    }
    if (interimPending()) {
      // Hidden (or age-restricted) pending review; the decision lifts it, whatever it is.
      const effects = interimEffects(input.targetType, input.targetId);
      for (const effect of effects) await activities.applyEffect({ caseId, effect, moderatorId: null, rule: 'interim', strikeSeconds: timings.strikeSeconds, phase: 'interim' });
      state.interim = effects;
      state.interimLifted = 0;
      continue;
    }
    const claimEnds = claimHeld() ? state.claim!.until : Infinity;
    // A new claim (or a renewed one) sets a new deadline: wake to wait for that one.
    const claimSeen = state.claim;
    await waitUntil(() => state.decision !== null || priorityChanged || state.claim !== claimSeen || interimPending(), Math.min(state.slaDueAt, claimEnds));
    if (state.decision !== null || busy) {
      await condition(() => !busy);
      continue;
    }
    if (state.claim && !claimHeld()) {
      const lapsed = state.claim.by;
      state.claim = null;
      setPhase('open');
      await activities.releaseClaim({ caseId, moderatorId: lapsed });
    }
    if (now() >= state.slaDueAt) {
      state.priority = escalate(state.priority);
      state.escalations += 1;
      state.slaDueAt = now() + sla(state.priority);
      await activities.escalateCase({ caseId, priority: state.priority, slaDueAt: new Date(state.slaDueAt).toISOString(), escalation: state.escalations });
    }
  }

  // Effects, each an idempotent activity, in order; then the statement of reasons and the reporters' answer.
  const decision = state.decision!;
  while (state.applied < decision.effects.length) {
    const effect = decision.effects[state.applied]!;
    const applied = await activities.applyEffect({ caseId, effect, moderatorId: decision.by, rule: decision.rule, strikeSeconds: timings.strikeSeconds });
    // The instant the database holds, so the lift finds exactly this case's suspension.
    if (effect.kind === 'suspend' && applied?.endsAt) {
      state.suspensionEndsAt = Date.parse(applied.endsAt);
      state.suspendedUntil = applied.endsAt;
    }
    if (effect.kind === 'strike') state.strikeExpiresAt = now() + timings.strikeSeconds * 1000;
    state.applied += 1;
  }
  // The review is done: the interim measure ends. An effect the decision itself applied to the
  // same thing took it over (and will restore what was there before the interim measure).
  while (state.interim && (state.interimLifted ?? 0) < state.interim.length) {
    await activities.reverseEffect({ caseId, effect: state.interim[state.interimLifted ?? 0]!, moderatorId: decision.by, phase: 'interim' });
    state.interimLifted = (state.interimLifted ?? 0) + 1;
  }
  if (decision.action !== 'dismiss') state.appealDeadline ??= now() + timings.appealWindowSeconds * 1000;
  if (!state.notified) {
    await activities.notifyDecision({ caseId, appealDeadline: state.appealDeadline === null ? null : new Date(state.appealDeadline).toISOString() });
    state.notified = true;
  }

  // Timers of the sanction (suspension lift, strike expiry) and the appeal window, whichever comes first.
  const upheld = () => state.appealRuling?.upheld === true;
  const suspensionDue = () => state.suspensionEndsAt !== null && !upheld();
  const strikeDue = () => state.strikeExpiresAt !== null && !upheld();
  const appealOpen = () => state.appealDeadline !== null && !state.appealRuling && (state.appeal !== null || now() < state.appealDeadline);
  for (;;) {
    if (state.appealRuling && !state.appealNotified) {
      if (upheld()) {
        const toUndo = decision.effects.filter(reversible);
        while (state.reversed < toUndo.length) {
          await activities.reverseEffect({ caseId, effect: toUndo[state.reversed]!, moderatorId: state.appealRuling.by });
          state.reversed += 1;
        }
      }
      await activities.notifyAppealRuling({ caseId });
      state.appealNotified = true;
    }
    if (state.phase !== 'closed' && !appealOpen() && !busy) {
      setPhase('closed');
      await activities.closeCase({ caseId });
    }
    if (suspensionDue() && now() >= state.suspensionEndsAt!) {
      await activities.liftSuspension({ caseId, userId: targetOwnerId!, suspendedUntil: state.suspendedUntil ?? undefined });
      state.suspensionEndsAt = null;
    }
    if (strikeDue() && now() >= state.strikeExpiresAt!) {
      await activities.expireStrike({ caseId });
      state.strikeExpiresAt = null;
    }
    if (state.phase === 'closed' && !suspensionDue() && !strikeDue() && (!state.appealRuling || state.appealNotified)) break;
    const deadlines = [
      suspensionDue() ? state.suspensionEndsAt! : Infinity,
      strikeDue() ? state.strikeExpiresAt! : Infinity,
      appealOpen() && state.appeal === null ? state.appealDeadline! : Infinity,
    ];
    const next = Math.min(...deadlines);
    const ruled = state.appealRuling !== null;
    const appealed = state.appeal !== null;
    await waitUntil(() => (!ruled && state.appealRuling !== null) || (!appealed && state.appeal !== null), next === Infinity ? null : next);
    await condition(() => !busy);
  }
  await condition(allHandlersFinished);
  return state;
}
