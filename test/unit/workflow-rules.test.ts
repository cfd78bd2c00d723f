import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWorkflowSource } from '../../scripts/lint/workflow-rules.ts';

describe('workflow determinism rules', () => {
  it('flags what breaks replay', () => {
    const source = [
      "import fs from 'node:fs';",
      "import { createDb } from '../lib/db.ts';",
      "import pg from 'pg';",
      'const started = Date.now();',
      'const id = Math.random();',
      'setTimeout(() => {}, 10);',
      'const url = process.env.X;',
      'import {',
      '  createDb,',
      "} from '../lib/db.ts';",
      "const lazy = await import('./other.ts');",
    ].join('\n');
    const lines = checkWorkflowSource('workflows/bad.ts', source).map((v) => v.line);
    expect(lines).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 11]);
  });

  it('allows type imports from anywhere, local modules and the workflow SDK', () => {
    const source = [
      "import { proxyActivities, sleep } from '@temporalio/workflow';",
      "import type { PlatformActivities } from '../activities/index.ts';",
      "import { workflowIds } from './ids.ts';",
      "import { type NotificationType } from '../lib/schema.ts';",
      "const now = new Date(); // the workflow clock",
      "export * from './ping.ts';",
      '// Date.now() would be wrong here',
    ].join('\n');
    expect(checkWorkflowSource('workflows/good.ts', source)).toEqual([]);
  });

  it('holds for every file in workflows/', () => {
    const dir = path.join(import.meta.dirname, '../../workflows');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(checkWorkflowSource(file, readFileSync(path.join(dir, file), 'utf8'))).toEqual([]);
  });
});
