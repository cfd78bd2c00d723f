import type { Nats } from './nats.ts';
import type { StreamStatus } from './schema.ts';

/** On air: an encoder is publishing, or may come back within the reconnect window. */
export const LIVE_STATUSES: StreamStatus[] = ['live', 'reconnecting'];

/** Over for good: no publish, change or chat is accepted any more. */
export const FINISHED_STATUSES: StreamStatus[] = ['ended', 'cancelled'];

/** Payload of `stream.<id>.status`, forwarded by the realtime gateway to the stream's viewers. */
export interface StreamStatusMessage {
  streamId: string;
  status: StreamStatus;
}

export function streamStatusSubject(nats: Nats, streamId: string): string {
  return nats.subject(`stream.${streamId}.status`);
}

export function publishStreamStatus(nats: Nats, message: StreamStatusMessage): void {
  nats.connection.publish(streamStatusSubject(nats, message.streamId), JSON.stringify(message));
}

/** S3 path of a broadcast's recording (all its RTMP sessions joined), without the key prefix. */
export function recordingPath(streamId: string): string {
  return `recordings/${streamId}/broadcast.flv`;
}
