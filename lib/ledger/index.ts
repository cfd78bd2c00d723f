export * from './chart.ts';
export * from './rules.ts';
export * from './store.ts';
