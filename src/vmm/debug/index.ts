export * from './errors.js';
export * from './memory-view.js';
export * from './registers.js';
export * from './mappings.js';
export * from './debugger.js';
export * from './hex.js';
export * from './inspection.js';
