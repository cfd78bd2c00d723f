import ts from 'typescript';

// Workflow code runs inside Temporal's deterministic sandbox and is replayed from history.
// These rules catch, at lint time, the imports and calls that break replay in production.

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];
const FORBIDDEN_GLOBALS: Record<string, string> = {
  'Date.now': 'Date.now() — use the workflow clock (it is replay-safe) or pass time in as input',
  'Math.random': 'Math.random() — use uuid4() from @temporalio/workflow or pass values in',
  'process.env': 'process.env — pass configuration in as workflow input',
  setTimeout: 'timers — use sleep() or condition() from @temporalio/workflow',
  setInterval: 'timers — use sleep() or condition() from @temporalio/workflow',
};

function importProblem(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return `Node built-in "${specifier}" in workflow code`;
  if (specifier.startsWith('../')) return `value import "${specifier}" leaves workflows/; use \`import type\` or move pure code into workflows/`;
  if (!specifier.startsWith('.') && !ALLOWED_PACKAGES.includes(specifier)) {
    return `package "${specifier}" in workflow code; only ${ALLOWED_PACKAGES.join(', ')}`;
  }
  return undefined;
}

/**
 * `file` is relative to the repository root. Value imports must stay inside workflows/ or
 * be Temporal's workflow packages; `import type` may point anywhere (it is erased).
 */
export function checkWorkflowSource(file: string, source: string): Violation[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const violations: Violation[] = [];
  const report = (node: ts.Node, message: string) =>
    violations.push({ file, line: sourceFile.getLineAndCharacterOfPosition(node.getStart()).line + 1, message });

  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = clause?.isTypeOnly || (clause?.namedBindings && ts.isNamedImports(clause.namedBindings) && !clause.name && clause.namedBindings.elements.every((e) => e.isTypeOnly));
      const problem = typeOnly ? undefined : importProblem(node.moduleSpecifier.text);
      if (problem) report(node, problem);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      const problem = importProblem(node.moduleSpecifier.text);
      if (problem) report(node, problem);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      report(node, 'dynamic import() in workflow code');
    } else if (ts.isPropertyAccessExpression(node) || ts.isIdentifier(node)) {
      const text = node.getText(sourceFile);
      // A bare identifier counts only as itself (`setTimeout`), not as part of `x.setTimeout`.
      const partOfAccess = ts.isIdentifier(node) && ts.isPropertyAccessExpression(node.parent);
      if (FORBIDDEN_GLOBALS[text] && !partOfAccess) report(node, FORBIDDEN_GLOBALS[text]!);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return violations;
}
