import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
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

// Custom search attributes an operator filters by in the Temporal UI. Registered by the stack.
export const searchAttributes = {
  StreamId: defineSearchAttributeKey('StreamId', SearchAttributeType.KEYWORD),
  VideoId: defineSearchAttributeKey('VideoId', SearchAttributeType.KEYWORD),
  CreatorId: defineSearchAttributeKey('CreatorId', SearchAttributeType.KEYWORD),
  Phase: defineSearchAttributeKey('Phase', SearchAttributeType.KEYWORD),
} as const;
