import path from 'node:path';
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

/** S3 path of a stream's live thumbnail, replaced in place while it is on air. */
export function liveThumbnailPath(streamId: string): string {
  return `streams/${streamId}/thumbnail.jpg`;
}

/**
 * nginx-rtmp names each recording `<stream id>-<unix time>.flv` (`record_unique on` in
 * scripts/stack/nginx.ts): one file per RTMP session, in the recordings directory itself.
 */
export function isRecordingOf(streamId: string, fileName: string): boolean {
  return fileName.startsWith(`${streamId}-`) && /^\d{1,12}\.flv$/.test(fileName.slice(streamId.length + 1));
}

/**
 * The file name of a recording nginx reports closed, when the reported path is exactly a
 * recording of that stream directly inside the recordings directory; undefined for anything
 * else (another directory, `..`, another stream's file). Only the name travels on: whoever
 * reads the file joins it to its own recordings directory.
 */
export function reportedRecording(recordingsDir: string, streamId: string, reportedPath: string): string | undefined {
  const name = path.basename(reportedPath);
  if (!isRecordingOf(streamId, name) || reportedPath !== path.join(recordingsDir, name)) return undefined;
  return name;
}
