import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { registerStripeEventHandler } from '../../activities/payments.ts';
import { recordingHandler } from './payment-handlers.ts';

// Loaded (`node --import`) into a worker process a test means to SIGKILL: its
// `payment_intent.succeeded` handler writes its effect, leaves a marker file named after the
// event in STREAMHUB_TEST_MARKER_DIR for the test, and never finishes, so the kill lands mid-event.

const markerDir = process.env.STREAMHUB_TEST_MARKER_DIR;
if (!markerDir) throw new Error('STREAMHUB_TEST_MARKER_DIR is required');

registerStripeEventHandler(
  'payment_intent.succeeded',
  recordingHandler({
    appliedBy: `doomed-${process.pid}`,
    async whileApplying(event) {
      writeFileSync(path.join(markerDir, event.id), String(process.pid));
      await new Promise<never>(() => {});
    },
  }),
);
