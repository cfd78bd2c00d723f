import type { Subscription } from 'nats';
import { CHAT_HISTORY_SIZE, CHAT_RECOVERY_LIMIT, chatLiveSubject, parseChatEvent, type StoredChatEvent } from '../lib/chat.ts';
import { readRoom } from '../lib/chat-log.ts';
import type { Logger } from '../lib/logger.ts';
import { jetStreamManager, jetStreamResources, type Nats } from '../lib/nats.ts';
import type { ChatFrame, ServerFrame } from './frames.ts';

export function chatFrame(event: StoredChatEvent & { kind: 'message' }, withNonce = false): ChatFrame {
  const { streamId, userId, username, text, sentAt, nonce } = event;
  return { type: 'chat', streamId, id: String(event.seq), userId, username, text, sentAt, badges: event.badges ?? [], ...(withNonce && nonce ? { nonce } : {}) };
}

/** The frames a stored event becomes for viewers. */
export function eventFrame(event: StoredChatEvent): ServerFrame {
  return event.kind === 'message' ? chatFrame(event) : { type: 'chat_deleted', streamId: event.streamId, id: event.messageId };
}

/**
 * Messages of `events` (sorted by seq) that no marker in them deleted, oldest first; those of
 * `viewerId` keep their nonce, so a reconnecting client can settle the messages it had pending.
 */
export function visibleMessages(events: StoredChatEvent[], viewerId: string | null = null): ChatFrame[] {
  const deleted = new Set(events.flatMap((e) => (e.kind === 'deleted' ? [e.messageId] : [])));
  return events.flatMap((e) => (e.kind === 'message' && !deleted.has(String(e.seq)) ? [chatFrame(e, e.userId === viewerId)] : []));
}

export type History = { history: ChatFrame[]; lastSeq: number; resumed?: boolean; deletions: ServerFrame[] };

/**
 * The chat of one stream as this gateway sees it: a live subscription to what JetStream
 * stored, and a window of the room's recent events (loaded once, then kept current) from
 * which joining viewers get their history without a JetStream read each.
 */
export function openChatRoom(deps: { nats: Nats; logger: Logger }, streamId: string, deliver: (event: StoredChatEvent) => void) {
  const { nats } = deps;
  const resources = jetStreamResources(nats.subject(''));
  const window = new Map<number, StoredChatEvent>();
  const keep = (event: StoredChatEvent) => {
    window.set(event.seq, event);
    ordered = undefined;
    if (window.size > resources.chatRecentStream.maxPerRoom) window.delete(sorted()[0]!.seq);
  };
  /** The window by sequence, sorted once per change rather than once per join. */
  let ordered: StoredChatEvent[] | undefined;
  const sorted = () => (ordered ??= [...window.values()].sort((a, b) => a.seq - b.seq));

  const accept = (event: StoredChatEvent) => {
    keep(event);
    deliver(event);
  };

  // The room's recent events, loaded once (again after a failure, at the next need).
  let loading: Promise<void> | undefined;
  const load = () =>
    (loading ??= readRoom(nats, resources.chatRecentStream.name, streamId, 1, resources.chatRecentStream.maxPerRoom).then(
      ({ events }) => {
        for (const event of events) if (!window.has(event.seq)) keep(event);
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    ));

  // Core NATS may drop republished events (a reconnect, a slow subscriber), and CHAT_RECENT is
  // copied from CHAT a moment late. Each live event carries the sequence of the room's previous
  // one, so a gap is noticed at the next event and filled from CHAT before it. Live events are
  // handled one after another, starting once the window is loaded, to keep their order.
  let lastLive: number | undefined;
  // Whether the window holds every event of the room from its oldest on: known once a live
  // event has shown the window joins up with it, and never again after a gap that could not be filled.
  let windowJoinsLive = false;
  let windowBroken = false;
  let handling: Promise<void> = load().then(
    () => {
      lastLive = sorted().at(-1)?.seq ?? 0;
    },
    (err: unknown) => deps.logger.warn({ err, streamId }, 'could not load recent chat'),
  );
  /** Delivers the room's events stored after `after` and before `before` that live delivery missed; the last one's seq, or undefined when the read failed. */
  async function fillGap(after: number, before: number): Promise<number | undefined> {
    try {
      const missed = await readRoom(nats, resources.chatStream.name, streamId, after + 1, CHAT_RECOVERY_LIMIT);
      if (missed.truncated) windowBroken = true;
      const filled = missed.events.filter((e) => e.seq < before && !window.has(e.seq));
      if (filled.length) deps.logger.warn({ streamId, after, missed: filled.length }, 'filled a gap in live chat from JetStream');
      for (const e of filled) accept(e);
      return missed.events.filter((e) => e.seq < before).at(-1)?.seq ?? after;
    } catch (err) {
      windowBroken = true;
      deps.logger.warn({ err, streamId, after }, 'could not fill a gap in live chat; viewers recover it on reconnect');
      return undefined;
    }
  }

  async function handleLive(event: StoredChatEvent, previous: number): Promise<void> {
    if (window.has(event.seq)) return;
    if (lastLive !== undefined && previous > lastLive) await fillGap(lastLive, event.seq);
    if (lastLive !== undefined) windowJoinsLive = true;
    lastLive = event.seq;
    accept(event);
  }

  const sub: Subscription = nats.connection.subscribe(chatLiveSubject(nats, streamId), {
    callback: (_err, msg) => {
      const event = parseChatEvent(msg.data, Number(msg.headers?.get('Nats-Sequence')));
      if (!event || !Number.isFinite(event.seq)) return;
      const previous = Number(msg.headers?.get('Nats-Last-Sequence') ?? 0);
      handling = handling.then(() => handleLive(event, previous)).catch((err: unknown) => deps.logger.error({ err, streamId }, 'chat delivery failed'));
    },
  });

  const lastSeq = (events: StoredChatEvent[]) => events.at(-1)?.seq ?? 0;

  async function recent(viewerId: string | null): Promise<History> {
    await load();
    const events = sorted();
    return { history: visibleMessages(events, viewerId).slice(-CHAT_HISTORY_SIZE), lastSeq: lastSeq(events), deletions: [] };
  }

  return {
    recent,

    /**
     * What a viewer who saw everything up to `since` missed: the messages after it, and the
     * deletions of older ones. Falls back to the recent history (`resumed: false`) when the
     * gap is too long or has aged out of JetStream.
     */
    async recover(since: number, viewerId: string | null): Promise<History> {
      await load();
      const oldest = sorted()[0]?.seq;
      let events: StoredChatEvent[];
      if (windowJoinsLive && !windowBroken && oldest !== undefined && since >= oldest) {
        // A short absence (the usual reconnect) is answered from the window: no JetStream read.
        events = sorted().filter((e) => e.seq > since);
      } else {
        const jsm = await jetStreamManager(nats);
        const firstSeq = (await jsm.streams.info(resources.chatStream.name)).state.first_seq;
        const read = since + 1 >= firstSeq ? await readRoom(nats, resources.chatStream.name, streamId, since + 1, CHAT_RECOVERY_LIMIT) : undefined;
        if (!read || read.truncated) return { ...(await recent(viewerId)), resumed: false };
        // Events stored while the read ran are in the live window.
        const bySeq = new Map(read.events.map((e) => [e.seq, e]));
        for (const event of window.values()) if (event.seq > since) bySeq.set(event.seq, event);
        events = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      }
      const deletions = events.flatMap((e) => (e.kind === 'deleted' && Number(e.messageId) <= since ? [eventFrame(e)] : []));
      return { history: visibleMessages(events, viewerId), lastSeq: lastSeq(events), resumed: true, deletions };
    },

    /**
     * This gateway lost its NATS connection: whatever is stored meanwhile never reaches it
     * live, so the window is not known to be whole until `catchUp`.
     */
    suspend(): void {
      windowJoinsLive = false;
    },

    /**
     * The connection is back: reads what was stored while it was away and delivers it. No
     * later event is needed to reveal the gap, as the room may have gone quiet meanwhile.
     */
    catchUp(): void {
      handling = handling
        .then(async () => {
          if (lastLive === undefined) return;
          const last = await fillGap(lastLive, Infinity);
          if (last === undefined) return;
          lastLive = Math.max(lastLive, last);
          windowJoinsLive = true;
        })
        .catch((err: unknown) => deps.logger.error({ err, streamId }, 'chat catch-up failed'));
    },

    close(): void {
      sub.unsubscribe();
    },
  };
}

export type ChatRoom = ReturnType<typeof openChatRoom>;
