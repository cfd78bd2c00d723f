import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MediaActivities, PlatformActivities } from '../activities/index.ts';

export interface PingInput {
  pingId: string;
  mediaTaskQueue: string;
}

export interface PingResult {
  pingId: string;
  workflowId: string;
  storedAt: string;
  ffmpeg: string;
}

const platform = proxyActivities<PlatformActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5, initialInterval: '200 milliseconds' },
});

/** Proves API → Temporal → both workers → Postgres and FFmpeg, end to end. */
export async function pingWorkflow(input: PingInput): Promise<PingResult> {
  const media = proxyActivities<MediaActivities>({
    taskQueue: input.mediaTaskQueue,
    startToCloseTimeout: '20 seconds',
    retry: { maximumAttempts: 5, initialInterval: '200 milliseconds' },
  });
  const { workflowId } = workflowInfo();
  const stored = await platform.recordPingInDatabase({ pingId: input.pingId, workflowId });
  const toolchain = await media.reportMediaToolchain();
  return { ...stored, ffmpeg: toolchain.ffmpeg };
}
