export * from './format.js';
export * from './tree.js';
export * from './writer.js';
export * from './reader.js';
