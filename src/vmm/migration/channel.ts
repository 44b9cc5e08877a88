import type { RawSection } from './sections.js';

/**
 * A bidirectional section transport between migration source and target (TCP in Node, a pair of
 * in-memory queues in tests). `send` resolves once the transport took the bytes (back-pressure);
 * `receive` resolves with the peer's next complete, checksum-verified section. Both reject when
 * the connection fails or closes; after that the channel is unusable.
 */
export interface MigrationChannel {
  /** Sends encoded section bytes; resolves once the transport took them. */
  send(bytes: Uint8Array): Promise<void>;
  /** The peer's next complete, checksum-verified section. */
  receive(): Promise<RawSection>;
  /** Ends the connection; pending sends and receives reject. */
  close(): void;
  /** Bytes received that are not yet part of a complete section (bytes after END are refused). */
  pendingBytes?(): number;
}
