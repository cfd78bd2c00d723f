import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Config } from './config.ts';

export interface Temporal {
  connection: Connection;
  client: Client;
  taskQueue: string;
  mediaTaskQueue: string;
}

export async function connectTemporal(config: Config['temporal']): Promise<Temporal> {
  const connection = await Connection.connect({ address: config.address, connectTimeout: 5000 });
  const client = new Client({ connection, namespace: config.namespace });
  return { connection, client, taskQueue: config.taskQueue, mediaTaskQueue: config.mediaTaskQueue };
}

export async function pingTemporal(temporal: Temporal, namespace: string): Promise<void> {
  await temporal.connection.workflowService.describeNamespace({ namespace });
}

export { searchAttributes } from '../workflows/search-attributes.ts';

/**
 * Awaits a workflow start whose id makes it idempotent: "already started" means someone
 * (a retried request, another API process) got there first, which is what we wanted.
 */
export async function startIdempotently(start: Promise<unknown>): Promise<void> {
  try {
    await start;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
