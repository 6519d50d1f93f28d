// The pure SLA core: month windows, availability, brackets and money. No IO.
export * from './types.js';
export * from './intervals.js';
export * from './month.js';
export * from './availability.js';
export * from './brackets.js';
export * from './money.js';
export * from './credits.js';
export * from './evidence.js';
export * from './outlook.js';
export * from './maintenance.js';
