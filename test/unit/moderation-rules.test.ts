import { describe, expect, it } from 'vitest';
import { caseIdOf, caseIdPattern, casePriority, effectKey, escalate, planEffects, reversible, reviewConflict, targetIdPatterns } from '../../workflows/plans/moderation.ts';

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
