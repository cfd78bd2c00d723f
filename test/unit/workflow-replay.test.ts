import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/workers.ts';

// Histories recorded from real runs (test/fixtures/histories/README.md) replayed against
// today's workflow code: a failure means a change would break workflows already running.
const historiesDir = path.join(import.meta.dirname, '../fixtures/histories');
const recorded = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));

describe('workflow determinism', () => {
  it('has recorded histories for every workflow with a durable state machine', () => {
    const types = recorded.map((file) => JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name);
    expect(new Set(types)).toEqual(new Set(['pingWorkflow', 'fanoutWorkflow', 'transcodeWorkflow', 'videoRemovalWorkflow', 'streamWorkflow']));
  });

  it.each(recorded)('replays %s', async (file) => {
    const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
  });
});
