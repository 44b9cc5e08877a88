export * from './protocol.js';
export * from './arguments.js';
export * from './registry.js';
export * from './events.js';
export * from './session.js';
export * from './commands/index.js';
export * from './monitor.js';
export * from './json-limits.js';
