// One realtime socket per tab, shared by every page: signs in with the session's access
// token (an `auth` frame, so the token stays out of URLs), reconnects on close with backoff,
// and on reconnect re-joins every room with `since` = the last chat id seen, so the gateway
// sends exactly what was missed (README "Chat"). Pages subscribe to frames; chat pages call
// join/leave and send.
import { refreshSession } from '../api/client.ts';
import { session } from '../api/session.ts';
import { reconnectDelayMs } from './backoff.ts';
import type { ClientFrame, ServerFrame } from './frames.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';
type Listener = (frame: ServerFrame) => void;

/** ws(s)://…/ws: the meta tag the API fills in, or this origin's /ws (the dev server proxies it). */
export function realtimeUrl(): string {
  const configured = document.querySelector<HTMLMetaElement>('meta[name="streamhub-realtime-url"]')?.content;
  if (configured && configured !== '__REALTIME_URL__') return configured;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

const PING_EVERY_MS = 25_000;
const MAX_QUEUED = 100;

export class RealtimeSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ping: ReturnType<typeof setInterval> | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  /** Rooms joined, with the last chat id seen in each (for `since`). */
  private readonly rooms = new Map<string, { refs: number; lastId?: string }>();
  /** Frames sent while the socket was down, sent once it is back (chat carries a nonce, so a resend is stored once). */
  private queue: ClientFrame[] = [];
  private signedInAs: string | undefined;
  state: ConnectionState = 'closed';

  constructor(private readonly url: () => string = realtimeUrl) {
    session.subscribe(() => this.syncIdentity());
  }

  /** Every frame, as it arrives. Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.ensureOpen();
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Joins a stream's room (counted: two components may share one room). */
  join(streamId: string): () => void {
    const room = this.rooms.get(streamId);
    if (room) room.refs++;
    else {
      this.rooms.set(streamId, { refs: 1 });
      this.send({ type: 'join', streamId });
    }
    return () => {
      const current = this.rooms.get(streamId);
      if (!current || --current.refs > 0) return;
      this.rooms.delete(streamId);
      this.send({ type: 'leave', streamId });
    };
  }

  send(frame: ClientFrame): void {
    this.ensureOpen();
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
    else if (frame.type !== 'join' && frame.type !== 'leave' && frame.type !== 'ping' && this.queue.length < MAX_QUEUED) this.queue.push(frame);
  }

  close(): void {
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
    this.setState('closed');
  }

  private ensureOpen(): void {
    if (this.socket || this.timer) return;
    this.open();
  }

  private open(): void {
    this.timer = undefined;
    this.setState('connecting');
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.signedInAs = undefined;
      this.syncIdentity();
      for (const [streamId, room] of this.rooms) this.raw({ type: 'join', streamId, ...(room.lastId ? { since: room.lastId } : {}) });
      const queued = this.queue;
      this.queue = [];
      for (const frame of queued) this.raw(frame);
      this.ping = setInterval(() => this.raw({ type: 'ping' }), PING_EVERY_MS);
      this.setState('open');
    };
    socket.onmessage = (event) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      this.track(frame);
      for (const listener of this.listeners) listener(frame);
    };
    // `close` follows every `error`: reconnecting there covers both (owncast#3308).
    socket.onclose = () => {
      clearInterval(this.ping);
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState('closed');
      this.timer = setTimeout(() => this.open(), reconnectDelayMs(this.attempt++));
    };
  }

  private raw(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private track(frame: ServerFrame): void {
    if (frame.type === 'chat') {
      const room = this.rooms.get(frame.streamId);
      if (room && (!room.lastId || Number(frame.id) > Number(room.lastId))) room.lastId = frame.id;
    } else if (frame.type === 'joined') {
      const room = this.rooms.get(frame.streamId);
      const last = frame.history.at(-1);
      if (room && last && (!room.lastId || Number(last.id) > Number(room.lastId))) room.lastId = last.id;
    } else if (frame.type === 'error' && frame.code === 'token_expired') {
      // The socket's token ran out before the page refreshed it; refresh and sign in again.
      const stale = this.signedInAs;
      if (stale) void refreshSession(stale);
    } else if (frame.type === 'signed_out' && (frame.reason === 'account_banned' || frame.reason === 'account_suspended')) {
      // Sanctioned while signed in: the session may only appeal now (the page shows the appeal page).
      session.update({ access: 'appeal' });
    }
  }

  /** Signs the socket in (or keeps it signed in) with the session's current token. */
  private syncIdentity(): void {
    const token = session.get()?.accessToken;
    if (token === this.signedInAs || this.socket?.readyState !== WebSocket.OPEN) return;
    this.signedInAs = token;
    // Signing out: a fresh anonymous socket (the gateway has no "sign out" frame).
    if (!token) this.socket.close();
    else this.raw({ type: 'auth', token });
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}

/** The tab's socket. */
export const realtime = new RealtimeSocket();
