export * from './chat-retention.ts';
export * from './fanout.ts';
export * from './maintenance.ts';
export * from './payment-event.ts';
export * from './ping.ts';
export * from './stream.ts';
export * from './transcode.ts';
export * from './video-removal.ts';
