import type { Db } from '../db.ts';
import type { Nats } from '../nats.ts';

// Stub so the core compiles; the perks helper's announceSubscription replaces it on merge.
export async function announceSubscription(deps: { db: Db; nats: Nats }, subscriptionId: string): Promise<void> {}
