import type { RawSection } from './sections.js';

/**
 * A bidirectional section transport between migration source and target (TCP in Node, a pair of
 * in-memory queues in tests). `send` resolves once the transport took the bytes (back-pressure);
 * `receive` resolves with the peer's next complete, checksum-verified section. Both reject when
 * the connection fails or closes; after that the channel is unusable.
 */
export interface MigrationChannel {
  /**
   * Sends encoded section bytes; resolves once the transport took them. `written`, if the
   * transport supports it, is called once the bytes have left (the caller may then reuse their
   * buffer); a transport that keeps a reference (an in-memory pair) never calls it.
   */
  send(bytes: Uint8Array, written?: () => void): Promise<void>;
  /** The peer's next complete, checksum-verified section. */
  receive(): Promise<RawSection>;
  /** Ends the connection; pending sends and receives reject. */
  close(): void;
  /** Bytes received that are not yet part of a complete section (bytes after END are refused). */
  pendingBytes?(): number;
}
