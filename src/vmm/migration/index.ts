export * from './payloads.js';
export * from './sections.js';
export * from './value-codec.js';
export * from './page-stream.js';
export * from './stream-target.js';
export * from './snapshot.js';
