// The signed-in session: tokens and the user, kept in localStorage so a reload stays signed
// in, and shared with other tabs through the `storage` event. React reads it with useSession().
import { useSyncExternalStore } from 'react';
import type { components } from './schema.ts';

export type SessionUser = components['schemas']['OwnProfile'];
export type Restriction = components['schemas']['AccountRestriction'];

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: SessionUser;
  /**
   * `appeal`: a suspended or banned account's token, which reaches only its notifications,
   * profile and moderation cases (README "Appealing while suspended or banned"); the app then
   * shows only the appeal page. Absent in sessions stored before it existed: full.
   */
  access?: 'full' | 'appeal';
  restriction?: Restriction;
}

/** The session may only appeal (an appeal-scoped token, or a sanctioned account's older token). */
export const isRestricted = (s: Session | null) => s?.access === 'appeal';

const KEY = 'streamhub.session';
const listeners = new Set<() => void>();

function read(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

let current = read();

function emit() {
  for (const listener of listeners) listener();
}

addEventListener('storage', (event) => {
  if (event.key !== KEY) return;
  current = read();
  emit();
});

export const session = {
  get: (): Session | null => current,
  /** Re-reads storage: another tab may have refreshed the tokens. */
  reload(): Session | null {
    current = read();
    return current;
  },
  set(next: Session | null) {
    current = next;
    if (next) localStorage.setItem(KEY, JSON.stringify(next));
    else localStorage.removeItem(KEY);
    emit();
  },
  update(patch: Partial<Session>) {
    if (current) session.set({ ...current, ...patch });
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useSession(): Session | null {
  return useSyncExternalStore(session.subscribe, session.get);
}
