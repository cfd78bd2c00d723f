import { describe, expect, it } from 'vitest';
import {
  caseIdOf,
  caseIdPattern,
  casePriority,
  contentRemoval,
  effectKey,
  escalate,
  heldChatTargetId,
  heldChatTargetPattern,
  interimDue,
  interimEffects,
  planEffects,
  reversible,
  reviewConflict,
  targetIdPatterns,
  withSignal,
  type ReportReason,
} from '../../workflows/plans/moderation.ts';

const owner = '0f8fad5b-d9cb-469f-a165-70867728950e';
const video = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('case priority', () => {
  it('puts anything live first, child safety anywhere, then severe reasons and surges', () => {
    expect(casePriority({ liveTarget: true, reasons: ['spam'], reportCount: 1 })).toBe('urgent');
    expect(casePriority({ liveTarget: false, reasons: ['minor_safety'], reportCount: 1 })).toBe('urgent');
    expect(casePriority({ liveTarget: false, reasons: ['violence'], reportCount: 1 })).toBe('high');
    expect(casePriority({ liveTarget: false, reasons: ['spam'], reportCount: 10 })).toBe('high');
    expect(casePriority({ liveTarget: false, reasons: ['spam', 'copyright'], reportCount: 9 })).toBe('normal');
  });

  it('never lowers a priority, and escalation climbs one step to urgent', () => {
    expect(casePriority({ liveTarget: false, reasons: ['spam'], reportCount: 1, current: 'urgent' })).toBe('urgent');
    expect(escalate('normal')).toBe('high');
    expect(escalate('high')).toBe('urgent');
    expect(escalate('urgent')).toBe('urgent');
  });
});

describe('case ids', () => {
  it('derive from the target and a counter, and only valid ones pass', () => {
    expect(caseIdOf('video', video, 2)).toBe(`video-${video}-2`);
    expect(caseIdPattern.test(caseIdOf('chat_message', `${video}.42`, 1))).toBe(true);
    expect(caseIdPattern.test(`video-${video}-0`)).toBe(false);
    expect(caseIdPattern.test(`video-${video}.4-1`)).toBe(false);
    expect(targetIdPatterns.chat_message.test(`${video}.0`)).toBe(false);
    expect(targetIdPatterns.stream.test(`${video}.1`)).toBe(false);
  });
});

describe('review conflicts', () => {
  it('refuses own content, own report, and the original reviewer on appeal only', () => {
    expect(reviewConflict({ reviewerId: owner, targetOwnerId: owner })).toBe('own_content');
    expect(reviewConflict({ reviewerId: 'm', targetOwnerId: owner, reporterIds: ['m'] })).toBe('own_report');
    expect(reviewConflict({ reviewerId: 'm', targetOwnerId: owner, decidedBy: 'm' })).toBeUndefined();
    expect(reviewConflict({ reviewerId: 'm', targetOwnerId: owner, decidedBy: 'm', forAppeal: true })).toBe('original_reviewer');
  });
});

describe('effects of a decision', () => {
  const target = { type: 'video' as const, id: video, ownerId: owner };
  it('plans what each action does, account sanctions ending live streams too', () => {
    expect(planEffects({ action: 'dismiss', rule: 'spam', note: '' }, target)).toEqual([]);
    expect(planEffects({ action: 'remove_content', rule: 'spam', note: '' }, target)).toEqual([{ kind: 'hide_video', videoId: video }]);
    expect(planEffects({ action: 'ban', rule: 'hate', note: '' }, target).map((e) => e.kind)).toEqual(['ban', 'end_live_streams', 'hide_video']);
    expect(planEffects({ action: 'suspend', rule: 'hate', note: '', durationSeconds: 60 }, target)[0]).toEqual({ kind: 'suspend', userId: owner, durationSeconds: 60 });
    expect(planEffects({ action: 'remove_content', rule: 'spam', note: '' }, { type: 'chat_message', id: `${video}.7`, ownerId: owner })).toEqual([{ kind: 'delete_chat_message', streamId: video, seq: 7 }]);
    expect(planEffects({ action: 'ban', rule: 'hate', note: '' }, { ...target, ownerId: null })).toEqual([]);
  });

  it('keys each effect per case and phase; ended streams and warnings are not reversed', () => {
    const ban = { kind: 'ban' as const, userId: owner };
    expect(effectKey('c-1', ban, 'apply')).toBe(`c-1:apply:ban:${owner}`);
    expect(effectKey('c-1', ban, 'apply')).not.toBe(effectKey('c-1', ban, 'reverse'));
    expect(reversible(ban)).toBe(true);
    expect(reversible({ kind: 'end_stream', streamId: video })).toBe(false);
  });
});

describe('automatic signals', () => {
  it('count as their reason from score 50, and every one toward the surge', () => {
    const base = { liveTarget: false, reasons: [], reportCount: 0 };
    expect(casePriority({ ...base, signalScores: { violence: 49 }, signalCount: 1 })).toBe('normal');
    expect(casePriority({ ...base, signalScores: { violence: 50 }, signalCount: 1 })).toBe('high');
    expect(casePriority({ ...base, signalScores: { minor_safety: 60 }, signalCount: 1 })).toBe('urgent');
    expect(casePriority({ ...base, signalScores: { minor_safety: 10 }, signalCount: 1 })).toBe('normal');
    expect(casePriority({ ...base, reportCount: 6, signalScores: { spam: 10 }, signalCount: 4 })).toBe('high');
    expect(casePriority({ ...base, liveTarget: true, signalScores: { spam: 1 }, signalCount: 1 })).toBe('urgent');
  });

  it('keep the highest score per reason', () => {
    expect(withSignal(withSignal({}, { reason: 'hate', score: 70 }), { reason: 'hate', score: 40 })).toEqual({ hate: 70 });
    expect(withSignal({ hate: 70 }, { reason: 'spam', score: 20 })).toEqual({ hate: 70, spam: 20 });
  });
});

describe('interim measures', () => {
  it('are due for one child-safety report, three reporters of illegal or violent content, or a grave high-scoring signal', () => {
    const reports = (...reasons: ReportReason[]) => reasons.map((reason) => ({ reason }));
    expect(interimDue({ severeReports: reports('minor_safety') })).toBe(true);
    expect(interimDue({ severeReports: reports('violence', 'illegal') })).toBe(false);
    expect(interimDue({ severeReports: reports('violence', 'illegal', 'violence') })).toBe(true);
    expect(interimDue({ severeReports: reports('spam', 'hate', 'sexual') })).toBe(false);
    expect(interimDue({ severeReports: [], signalScores: { illegal: 89 } })).toBe(false);
    expect(interimDue({ severeReports: [], signalScores: { illegal: 90 } })).toBe(true);
    expect(interimDue({ severeReports: [], signalScores: { hate: 100 } })).toBe(false);
  });

  it('take one child-safety report only from a trusted reporter; untrusted ones count toward three reporters', () => {
    const untrusted = { reason: 'minor_safety' as const, trusted: false };
    expect(interimDue({ severeReports: [{ reason: 'minor_safety', trusted: true }] })).toBe(true);
    expect(interimDue({ severeReports: [untrusted] })).toBe(false);
    expect(interimDue({ severeReports: [untrusted, untrusted] })).toBe(false);
    expect(interimDue({ severeReports: [untrusted, untrusted, untrusted] })).toBe(true);
    expect(interimDue({ severeReports: [untrusted, { reason: 'violence' }, { reason: 'illegal' }] })).toBe(true);
  });

  it('hide a video, age-restrict a stream (never end it), and leave chat and accounts alone', () => {
    expect(interimEffects('video', video)).toEqual([{ kind: 'hide_video', videoId: video }]);
    expect(interimEffects('stream', video)).toEqual([{ kind: 'age_restrict', targetType: 'stream', targetId: video }]);
    expect(interimEffects('chat_message', `${video}.3`)).toEqual([]);
    expect(interimEffects('user', owner)).toEqual([]);
    // The interim key and the decision's key of the same effect differ only by phase: a decision takes an interim measure over.
    const [hide] = interimEffects('video', video);
    expect(effectKey('c', hide!, 'interim')).toBe(`c:interim:hide_video:${video}`);
    expect(effectKey('c', planEffects({ action: 'remove_content', rule: 'violence', note: '' }, { type: 'video', id: video, ownerId: owner })[0]!, 'interim-lift')).toBe(`c:interim-lift:hide_video:${video}`);
  });
});

describe('age restriction', () => {
  it('applies to videos and streams only, and an appeal reverses it', () => {
    const decision = { action: 'age_restrict' as const, rule: 'sexual' as const, note: '' };
    expect(planEffects(decision, { type: 'video', id: video, ownerId: owner })).toEqual([{ kind: 'age_restrict', targetType: 'video', targetId: video }]);
    expect(planEffects(decision, { type: 'stream', id: video, ownerId: owner })).toEqual([{ kind: 'age_restrict', targetType: 'stream', targetId: video }]);
    expect(planEffects(decision, { type: 'user', id: owner, ownerId: owner })).toEqual([]);
    expect(reversible({ kind: 'age_restrict', targetType: 'video', targetId: video })).toBe(true);
    expect(effectKey('c', { kind: 'age_restrict', targetType: 'stream', targetId: video }, 'apply')).toBe(`c:apply:age_restrict:stream:${video}`);
  });
});

describe('held chat messages', () => {
  it('have their own target ids, valid case ids, and nothing to delete', () => {
    const target = heldChatTargetId(video, 12);
    expect(target).toBe(`${video}.h12`);
    expect(heldChatTargetPattern.test(target)).toBe(true);
    expect(heldChatTargetPattern.test(`${video}.12`)).toBe(false);
    // Not reportable: a report names a message that went out.
    expect(targetIdPatterns.chat_message.test(target)).toBe(false);
    expect(caseIdPattern.test(caseIdOf('chat_message', target, 1))).toBe(true);
    expect(contentRemoval('chat_message', target)).toEqual([]);
    expect(contentRemoval('chat_message', `${video}.12`)).toEqual([{ kind: 'delete_chat_message', streamId: video, seq: 12 }]);
  });
});
