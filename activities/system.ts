import type { Db } from '../lib/db.ts';

export interface PingRecord {
  pingId: string;
  workflowId: string;
  storedAt: string;
}

export function createSystemActivities(deps: { db: Db }) {
  return {
    /** Writes the ping row (once, whatever the retries) and reads it back. */
    async recordPingInDatabase({ pingId, workflowId }: { pingId: string; workflowId: string }): Promise<PingRecord> {
      await deps.db
        .insertInto('system_pings')
        .values({ id: pingId, workflow_id: workflowId })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const row = await deps.db
        .selectFrom('system_pings')
        .select(['id', 'workflow_id', 'created_at'])
        .where('id', '=', pingId)
        .executeTakeFirstOrThrow();
      return { pingId: row.id, workflowId: row.workflow_id, storedAt: row.created_at.toISOString() };
    },
  };
}
