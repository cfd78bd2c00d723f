export * from './fanout.ts';
export * from './maintenance.ts';
export * from './ping.ts';
