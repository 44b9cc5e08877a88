export * from './packet-codec.js';
export * from './session.js';
export * from './stop-reply.js';
export * from './synthetic-files.js';
export * from './target-xml.js';
export * from './host-io.js';
export * from './memtag-packets.js';
export * from './data-packets.js';
