import { endedSessions } from '../lib/access.ts';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { Nats } from '../lib/nats.ts';
import { signOutMessages, signOutSubject, type SignOut, type SignOutReason } from '../lib/sign-outs.ts';
import type { Client, Hub } from './hub.ts';

/**
 * Ends the identity of sockets whose session has ended: at once when the API announces it on
 * NATS (logout, refresh-token reuse, a ban), and, as the net for a lost message or a change
 * made straight in the database, by re-checking every signed-in socket's session every
 * `intervalMs`, in one query per five thousand sessions.
 */
export function watchSessions(deps: {
  nats: Nats;
  db: Db;
  hub: Hub;
  logger: Logger;
  intervalMs: number;
  signOut: (client: Client, reason: SignOutReason) => void;
}) {
  const { hub } = deps;

  const sub = deps.nats.connection.subscribe(signOutSubject(deps.nats), {
    callback: (_err, msg) => {
      let event: SignOut;
      try {
        event = msg.json<SignOut>();
      } catch {
        return;
      }
      if (typeof event?.userId !== 'string' || !Object.hasOwn(signOutMessages, event.reason)) return;
      // A copy: signing out removes the socket from the user's set.
      for (const client of [...hub.clientsOf(event.userId)]) {
        if (!event.sessionId || client.sessionId === event.sessionId) deps.signOut(client, event.reason);
      }
    },
  });

  async function check(): Promise<void> {
    const sessions = new Set<string>();
    for (const client of hub.signedIn()) if (client.sessionId) sessions.add(client.sessionId);
    if (!sessions.size) return;
    const ended = await endedSessions(deps.db, [...sessions]);
    if (!ended.size) return;
    // Sockets that signed in again meanwhile carry another session and are left alone.
    for (const client of [...hub.signedIn()]) {
      const reason = client.sessionId ? ended.get(client.sessionId) : undefined;
      if (reason) deps.signOut(client, reason);
    }
  }

  let running = Promise.resolve();
  const timer = setInterval(() => {
    // One check at a time: a slow database must not pile them up.
    running = running.then(check).catch((err: unknown) => deps.logger.warn({ err }, 'session check failed'));
  }, deps.intervalMs);
  timer.unref();

  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      sub.unsubscribe();
      await running;
    },
  };
}
