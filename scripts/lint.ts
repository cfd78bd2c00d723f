import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkWorkflowSource } from './lint/workflow-rules.ts';
import { repoRoot } from './stack/paths.ts';

// `npm run lint` (after tsc): project rules no general linter knows.
const workflowsDir = path.join(repoRoot, 'workflows');
const files = readdirSync(workflowsDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
const violations = files.flatMap((f) =>
  checkWorkflowSource(path.join('workflows', f), readFileSync(path.join(workflowsDir, f), 'utf8')),
);
for (const v of violations) process.stderr.write(`${v.file}:${v.line}: ${v.message}\n`);
process.stdout.write(`lint: ${files.length} workflow files checked, ${violations.length} problems\n`);
process.exit(violations.length ? 1 : 0);
