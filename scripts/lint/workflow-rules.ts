// Workflow code runs inside Temporal's deterministic sandbox and is replayed from history.
// These rules catch, at lint time, the imports and calls that break replay in production.

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/;
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];
const FORBIDDEN_CALLS: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now() — use the workflow clock (it is replay-safe) or pass time in as input'],
  [/\bMath\.random\s*\(/, 'Math.random() — use uuid4() from @temporalio/workflow or pass values in'],
  [/\bprocess\.env\b/, 'process.env — pass configuration in as workflow input'],
  [/\b(setTimeout|setInterval)\s*\(/, 'timers — use sleep() or condition() from @temporalio/workflow'],
];

/**
 * `file` is relative to the repository root. Value imports must stay inside workflows/
 * or be Temporal's workflow packages; `import type` may point anywhere (it is erased).
 */
export function checkWorkflowSource(file: string, source: string): Violation[] {
  const violations: Violation[] = [];
  source.split('\n').forEach((text, index) => {
    const line = index + 1;
    const trimmed = text.trim();
    if (trimmed.startsWith('//') || trimmed.startsWith('*')) return;
    const match = IMPORT.exec(text);
    if (match) {
      const [, , typeOnly, specifier] = match as unknown as [string, string, string | undefined, string];
      if (typeOnly) return;
      const isRelative = specifier.startsWith('.');
      const staysInside = isRelative && !specifier.startsWith('../');
      if (specifier.startsWith('node:')) violations.push({ file, line, message: `Node built-in "${specifier}" in workflow code` });
      else if (isRelative && !staysInside) {
        violations.push({ file, line, message: `value import "${specifier}" leaves workflows/; use \`import type\` or move pure code into workflows/` });
      } else if (!isRelative && !ALLOWED_PACKAGES.includes(specifier)) {
        violations.push({ file, line, message: `package "${specifier}" in workflow code; only ${ALLOWED_PACKAGES.join(', ')}` });
      }
      return;
    }
    for (const [pattern, message] of FORBIDDEN_CALLS) {
      if (pattern.test(text)) violations.push({ file, line, message });
    }
  });
  return violations;
}
