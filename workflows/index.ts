export * from './fanout.ts';
export * from './ping.ts';
