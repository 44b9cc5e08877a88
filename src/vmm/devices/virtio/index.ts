export * from './constants.js';
export * from './queue.js';
export * from './device.js';
export * from './transport.js';
export * from './block-backend.js';
export * from './blk.js';
export * from './console.js';
