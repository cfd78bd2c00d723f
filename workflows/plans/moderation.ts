// Pure rules of moderation review (DESIGN.md §4): case ids, priorities, SLAs, who may review.
// Imported by workflows, so deterministic and free of I/O.

export const targetTypes = ['stream', 'video', 'chat_message', 'user', 'comment'] as const;
export type TargetType = (typeof targetTypes)[number];

export const reportReasons = ['spam', 'harassment', 'hate', 'violence', 'sexual', 'minor_safety', 'copyright', 'illegal', 'other'] as const;
export type ReportReason = (typeof reportReasons)[number];

/** Most urgent first; an SLA per priority (config). */
export const priorities = ['urgent', 'high', 'normal'] as const;
export type Priority = (typeof priorities)[number];
export const priorityRank = (p: Priority): number => priorities.indexOf(p);

export const casePhases = ['open', 'claimed', 'decided', 'appealed', 'closed'] as const;
export type CasePhase = (typeof casePhases)[number];

export const decisionActions = ['dismiss', 'warn', 'remove_content', 'age_restrict', 'strike', 'suspend', 'ban', 'payout_hold'] as const;
export type DecisionAction = (typeof decisionActions)[number];

export const policyRules = ['spam', 'harassment', 'hate', 'violence', 'sexual', 'minor_safety', 'copyright', 'illegal', 'impersonation', 'other'] as const;
export type PolicyRule = (typeof policyRules)[number];

export const MODERATOR_ROLES = ['moderator', 'admin'] as const;
export const isModerator = (role: string) => (MODERATOR_ROLES as readonly string[]).includes(role);

/** Reasons severe enough for a person to look within hours whatever the target. */
const SEVERE: readonly ReportReason[] = ['minor_safety', 'violence', 'illegal', 'hate', 'sexual'];
/** This many reports (and signals) on one target make it high priority however mild each reason. */
export const REPORT_SURGE = 10;
/**
 * An automatic signal (watched words …) counts with its reason, like a report, from this score
 * up (1–100); below it, it only adds to the surge count: a weak match should not page anyone.
 */
export const SIGNAL_COUNTS_AT = 50;

/** The highest score seen per reason among a case's automatic signals. */
export type SignalScores = Partial<Record<ReportReason, number>>;

/** Folds one signal into the case's per-reason maximum scores. */
export function withSignal(scores: SignalScores, signal: { reason: ReportReason; score: number }): SignalScores {
  return { ...scores, [signal.reason]: Math.max(scores[signal.reason] ?? 0, signal.score) };
}

/**
 * Priority of a case from what it is about: anything live (a live stream, a chat message of
 * one) is urgent because the harm is happening now (minutes, not days); child safety is urgent
 * anywhere; severe reasons and report surges are high; the rest normal. Automatic signals count
 * as their reason from `SIGNAL_COUNTS_AT`, and every one toward the surge. Never lowered.
 */
export function casePriority(input: { liveTarget: boolean; reasons: Iterable<ReportReason>; reportCount: number; signalScores?: SignalScores; signalCount?: number; current?: Priority }): Priority {
  const signalled = Object.entries(input.signalScores ?? {})
    .filter(([, score]) => (score ?? 0) >= SIGNAL_COUNTS_AT)
    .map(([reason]) => reason as ReportReason);
  const reasons = [...input.reasons, ...signalled];
  let p: Priority = 'normal';
  if (input.liveTarget || reasons.includes('minor_safety')) p = 'urgent';
  else if (reasons.some((r) => SEVERE.includes(r)) || input.reportCount + (input.signalCount ?? 0) >= REPORT_SURGE) p = 'high';
  return input.current && priorityRank(input.current) < priorityRank(p) ? input.current : p;
}

/** Reasons grave enough to act before a person has looked: an interim measure. */
export const INTERIM_REASONS: readonly ReportReason[] = ['minor_safety', 'illegal', 'violence'];
/** An automatic signal of an interim reason triggers the measure from this score. */
export const INTERIM_SIGNAL_SCORE = 90;
/** Distinct reporters of an interim reason that trigger it (one trusted reporter is enough for `minor_safety`). */
export const INTERIM_REPORTERS = 3;

/**
 * Whether a case's evidence calls for an interim measure pending review: one `minor_safety`
 * report from a trusted reporter (child safety is never left up for the SLA's minutes, but a
 * fresh or sanctioned account alone must not take anything down: `trusted: false`),
 * `INTERIM_REPORTERS` distinct reporters of any interim reason, or an automatic signal of an
 * interim reason scoring `INTERIM_SIGNAL_SCORE`+ (an admin marked that word as that grave).
 * A report without `trusted` (filed before the rule) counts as trusted.
 */
export function interimDue(input: { severeReports: Iterable<{ reason: ReportReason; trusted?: boolean }>; signalScores?: SignalScores }): boolean {
  const reports = [...input.severeReports].filter((r) => INTERIM_REASONS.includes(r.reason));
  if (reports.some((r) => r.reason === 'minor_safety' && r.trusted !== false) || reports.length >= INTERIM_REPORTERS) return true;
  return INTERIM_REASONS.some((reason) => (input.signalScores?.[reason] ?? 0) >= INTERIM_SIGNAL_SCORE);
}

/**
 * The interim measure on a target, reversible exactly: a video is hidden; a stream is
 * age-restricted, not ended (a wrong call must not cut a broadcast off: that a moderator does);
 * nothing for a chat message (a held one never went out) or an account.
 */
export function interimEffects(targetType: TargetType, targetId: string): Effect[] {
  if (targetType === 'video') return [{ kind: 'hide_video', videoId: targetId }];
  if (targetType === 'stream') return [{ kind: 'age_restrict', targetType: 'stream', targetId }];
  return [];
}

/** One step more urgent (SLA escalation); urgent stays urgent. */
export function escalate(p: Priority): Priority {
  return priorities[Math.max(priorityRank(p) - 1, 0)]!;
}

/** `<targetType>-<targetId>-<n>`: n counts the target's cases, so a new offence after a decision opens a new case. */
export function caseIdOf(targetType: TargetType, targetId: string, sequence: number): string {
  return `${targetType}-${targetId}-${sequence}`;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A chat message's target id: `<streamId>.<message seq>`. */
export const targetIdPatterns: Record<TargetType, RegExp> = {
  stream: new RegExp(`^${UUID}$`),
  video: new RegExp(`^${UUID}$`),
  user: new RegExp(`^${UUID}$`),
  chat_message: new RegExp(`^${UUID}\\.[1-9]\\d{0,14}$`),
  comment: new RegExp(`^${UUID}$`),
};
/** A chat message the gateway held (never published): `<streamId>.h<n>`; only automatic signals use it. */
export const heldChatTargetPattern = new RegExp(`^${UUID}\\.h[1-9]\\d{0,14}$`);
export const caseIdPattern = new RegExp(`^(stream|video|user|comment)-${UUID}-[1-9]\\d{0,6}$|^chat_message-${UUID}\\.h?[1-9]\\d{0,14}-[1-9]\\d{0,6}$`);

export const heldChatTargetId = (streamId: string, heldId: number | string) => `${streamId}.h${heldId}`;

export function parseChatTarget(targetId: string): { streamId: string; seq: number } {
  const dot = targetId.lastIndexOf('.');
  return { streamId: targetId.slice(0, dot), seq: Number(targetId.slice(dot + 1)) };
}

/**
 * Why this moderator may not review a case, or undefined: never their own report, their own
 * content, or themselves (Mastodon lets the striking moderator approve the appeal; we don't).
 */
export function reviewConflict(input: { reviewerId: string; targetOwnerId: string | null; reporterIds?: readonly string[]; decidedBy?: string | null; forAppeal?: boolean }): string | undefined {
  if (input.targetOwnerId === input.reviewerId) return 'own_content';
  if (input.reporterIds?.includes(input.reviewerId)) return 'own_report';
  if (input.forAppeal && input.decidedBy === input.reviewerId) return 'original_reviewer';
  return undefined;
}

export interface Decision {
  action: DecisionAction;
  rule: PolicyRule;
  note: string;
  /** For `suspend`. */
  durationSeconds?: number;
}

/**
 * The effects a decision applies, in order, each its own idempotent activity. A sanction on
 * an account also removes the reported content: a ban leaves no live stream running.
 */
export type Effect =
  | { kind: 'hide_video'; videoId: string }
  | { kind: 'hide_comment'; commentId: string }
  | { kind: 'delete_chat_message'; streamId: string; seq: number }
  | { kind: 'end_stream'; streamId: string }
  | { kind: 'end_live_streams'; userId: string }
  | { kind: 'suspend'; userId: string; durationSeconds: number }
  | { kind: 'ban'; userId: string }
  | { kind: 'strike'; userId: string }
  | { kind: 'payout_hold'; userId: string }
  | { kind: 'age_restrict'; targetType: 'video' | 'stream'; targetId: string }
  | { kind: 'warn'; userId: string };

export function contentRemoval(targetType: TargetType, targetId: string): Effect[] {
  if (targetType === 'video') return [{ kind: 'hide_video', videoId: targetId }];
  if (targetType === 'stream') return [{ kind: 'end_stream', streamId: targetId }];
  if (targetType === 'comment') return [{ kind: 'hide_comment', commentId: targetId }];
  // A held message never reached the room: there is nothing to delete.
  if (targetType === 'chat_message' && !heldChatTargetPattern.test(targetId)) {
    const { streamId, seq } = parseChatTarget(targetId);
    return [{ kind: 'delete_chat_message', streamId, seq }];
  }
  return [];
}

export function planEffects(decision: Decision, target: { type: TargetType; id: string; ownerId: string | null }): Effect[] {
  const owner = target.ownerId;
  switch (decision.action) {
    case 'dismiss':
      return [];
    case 'warn':
      return owner ? [{ kind: 'warn', userId: owner }] : [];
    case 'remove_content':
      return contentRemoval(target.type, target.id);
    case 'age_restrict':
      return target.type === 'video' || target.type === 'stream' ? [{ kind: 'age_restrict', targetType: target.type, targetId: target.id }] : [];
    case 'strike':
      return owner ? [...contentRemoval(target.type, target.id), { kind: 'strike', userId: owner }] : [];
    case 'suspend':
      return owner ? [{ kind: 'suspend', userId: owner, durationSeconds: decision.durationSeconds ?? 86_400 }, { kind: 'end_live_streams', userId: owner }, ...contentRemoval(target.type, target.id)] : [];
    case 'ban':
      return owner ? [{ kind: 'ban', userId: owner }, { kind: 'end_live_streams', userId: owner }, ...contentRemoval(target.type, target.id)] : [];
    case 'payout_hold':
      return owner ? [{ kind: 'payout_hold', userId: owner }] : [];
  }
}

/** A decision's effect and its reversal, or an interim measure and its lifting. */
export type EffectPhase = 'apply' | 'reverse' | 'interim' | 'interim-lift';

/** A stable key per effect of a case: the audit row's idempotency key, so a retried activity records it once. */
export function effectKey(caseId: string, effect: Effect, phase: EffectPhase): string {
  const subject =
    'videoId' in effect ? effect.videoId : 'commentId' in effect ? effect.commentId : 'seq' in effect ? `${effect.streamId}.${effect.seq}` : 'streamId' in effect ? effect.streamId : 'targetId' in effect ? `${effect.targetType}:${effect.targetId}` : effect.userId;
  return `${caseId}:${phase}:${effect.kind}:${subject}`;
}

/** Effects an upheld appeal undoes (an ended stream is over; a warning was only words). */
export const reversible = (effect: Effect) => !['end_stream', 'end_live_streams', 'warn'].includes(effect.kind);
