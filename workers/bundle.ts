import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowsPath } from './workers.ts';

/**
 * Bundles workflows/ (what a platform worker otherwise does with webpack at every start) into
 * one file for WORKFLOW_BUNDLE_PATH. Written under a temporary name and renamed, so a worker
 * never reads half a bundle. The bundle must come from the same code as the worker's
 * activities: build it with the release, never reuse it across versions.
 */
export async function writeWorkflowBundle(outPath: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  await mkdir(path.dirname(outPath), { recursive: true });
  const partial = `${outPath}.${process.pid}.partial`;
  await writeFile(partial, code);
  await rename(partial, outPath);
}

// Usage: workers/bundle.ts <out.js> (the image build runs the compiled copy).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('Usage: workers/bundle.ts <out.js>\n');
    process.exit(64);
  }
  await writeWorkflowBundle(path.resolve(out));
}
