export * from './ping.ts';
