import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { MediaActivities, PlatformActivities } from '../activities/index.ts';

// Source in development (Node strips the types), compiled JavaScript in production.
const ownExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const workflowsPath = fileURLToPath(new URL(`../workflows/index${ownExtension}`, import.meta.url));

export interface WorkerTarget {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
}

type BundleOption = Pick<WorkerOptions, 'workflowBundle'> | Pick<WorkerOptions, 'workflowsPath'>;
/** Where the workflow code comes from, and (tests only) whether it runs on the worker's own thread. */
type WorkflowCodeOptions = BundleOption & Pick<WorkerOptions, 'debugMode'>;

/** The workflow code a platform worker runs: the bundle built ahead if there is one, else workflows/ bundled at start. */
export function workflowSource(bundlePath: string | undefined): BundleOption {
  return bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath };
}

/** Task queue `streamhub`: every workflow, plus activities that only do light I/O. */
export function createPlatformWorker(
  target: WorkerTarget,
  activities: PlatformActivities,
  code: WorkflowCodeOptions = { workflowsPath },
): Promise<Worker> {
  return Worker.create({
    ...target,
    ...code,
    activities,
    identity: `platform@${process.pid}`,
  });
}

/** Task queue `media`: FFmpeg work, at most one task per core so encodes do not starve each other. */
export function createMediaWorker(target: WorkerTarget, activities: MediaActivities, options: { concurrency: number }): Promise<Worker> {
  return Worker.create({
    ...target,
    activities,
    maxConcurrentActivityTaskExecutions: options.concurrency,
    identity: `media@${process.pid}`,
  });
}
