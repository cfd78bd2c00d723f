import { activityInfo, heartbeat } from '@temporalio/activity';
import type { Db } from '../lib/db.ts';
import { creatorsWithPendingEarnings, matureCreatorEarnings } from '../lib/money/maturation.ts';

const PAGE = 500;

export interface MaturationResult {
  creators: number;
  /** Minor units moved to available, as a decimal string (bigint does not cross the payload converter). */
  moved: string;
}

export function createEarningsActivities(deps: { db: Db }) {
  return {
    /**
     * Moves every creator's earnings credited up to `cutoff` from pending to available. A retry
     * resumes after the last creator it heartbeated; a creator done twice moves nothing twice.
     */
    async makeMaturedEarningsAvailable(input: { currency: string; cutoff: string }): Promise<MaturationResult> {
      const cutoff = new Date(input.cutoff);
      let after = (activityInfo().heartbeatDetails as { afterCreatorId?: string } | undefined)?.afterCreatorId;
      let creators = 0;
      let moved = 0n;
      for (;;) {
        const page = await creatorsWithPendingEarnings(deps.db, input.currency, { afterCreatorId: after, limit: PAGE });
        for (const creatorId of page) {
          const amount = await matureCreatorEarnings(deps.db, { creatorId, currency: input.currency, cutoff });
          if (amount > 0n) creators++;
          moved += amount;
          after = creatorId;
          heartbeat({ afterCreatorId: after });
        }
        if (page.length < PAGE) return { creators, moved: moved.toString() };
      }
    },
  };
}

export type EarningsActivities = ReturnType<typeof createEarningsActivities>;
