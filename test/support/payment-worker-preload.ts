import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { registerStripeEventHandler } from '../../activities/payments.ts';
import { KILLED_MID_EVENT_TYPE, recordingHandler } from './payment-handlers.ts';

// Loaded (`node --import`) into a worker process a test means to SIGKILL: its handler of
// KILLED_MID_EVENT_TYPE writes its effect, leaves a marker file named after the
// event in STREAMHUB_TEST_MARKER_DIR for the test, and never finishes, so the kill lands mid-event.

const markerDir = process.env.STREAMHUB_TEST_MARKER_DIR;
if (!markerDir) throw new Error('STREAMHUB_TEST_MARKER_DIR is required');

registerStripeEventHandler(
  KILLED_MID_EVENT_TYPE,
  recordingHandler({
    appliedBy: `doomed-${process.pid}`,
    async whileApplying(event) {
      writeFileSync(path.join(markerDir, event.id), String(process.pid));
      await new Promise<never>(() => {});
    },
  }),
);
