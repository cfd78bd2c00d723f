import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import * as workflows from '../../workflows/index.ts';
import { workflowBundle } from '../support/workers.ts';

// Histories recorded from real runs (test/fixtures/histories/README.md) replayed against
// today's workflow code: a failure means a change would break workflows already running.
const historiesDir = path.join(import.meta.dirname, '../fixtures/histories');
const recorded = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));

describe('workflow determinism', () => {
  it('has a recorded history for every workflow the workers register (workflows/index.ts)', () => {
    const types = recorded.map((file) => JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name);
    const registered = Object.entries(workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    expect(registered).toContain('pingWorkflow');
    expect([...new Set(types)].sort()).toEqual(registered.sort());
  });

  it.each(recorded)('replays %s', async (file) => {
    const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
  });
});
