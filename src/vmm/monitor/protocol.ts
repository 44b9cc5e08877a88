/**
 * The JSON monitor's wire format, in the spirit of QEMU's QMP (docs/monitor-api.md):
 *
 *   server: {"QMP": {"version": {...}, "capabilities": []}}              greeting, on connect
 *   client: {"execute": "qmp_capabilities"}                              enter command mode
 *   client: {"execute": "<command>", "arguments": {...}, "id": <any>}    one JSON object a line
 *   server: {"return": <value>, "id": <same>}                            success
 *   server: {"error": {"class": "<class>", "desc": "<text>"}, "id": ...} failure
 *   server: {"event": "<NAME>", "data": {...}, "timestamp": {"seconds": s, "microseconds": us}}
 *
 * Every message is one line of JSON terminated by "\n".
 */

import { stringifySafely } from './json-limits.js';

/** Error classes (docs/monitor-api.md explains when each is used). */
export type ErrorClass =
  | 'GenericError' // an internal failure; the VM is unaffected
  | 'CommandNotFound' // unknown command, or a command before qmp_capabilities
  | 'InvalidParameter' // missing, unknown or mistyped argument, value out of range
  | 'InvalidState' // the command is not allowed in the VM's current state
  | 'MemoryError' // the guest memory named does not exist, is not mapped, or holds no tags
  | 'AccessDenied' // the VM's debug policy refused the access (protected VM)
  | 'JSONParsing'; // the line is not a JSON object, or is too long

export class MonitorError extends Error {
  override readonly name = 'MonitorError';
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
  ) {
    super(message);
  }
}

export const PROTOCOL_VERSION = { major: 0, minor: 1, micro: 0 } as const;

export function greeting(): unknown {
  return { QMP: { version: { tagvisor: PROTOCOL_VERSION, package: 'tagvisor' }, capabilities: [] } };
}

export function successReply(value: unknown, id: unknown): unknown {
  return id === undefined ? { return: value } : { return: value, id };
}

export function errorReply(errorClass: ErrorClass, desc: string, id: unknown): unknown {
  const error = { error: { class: errorClass, desc } };
  return id === undefined ? error : { ...error, id };
}

export function eventMessage(event: string, data: unknown, nowMs: number): unknown {
  const seconds = Math.floor(nowMs / 1000);
  const microseconds = Math.floor((nowMs - seconds * 1000) * 1000);
  return data === undefined ? { event, timestamp: { seconds, microseconds } } : { event, data, timestamp: { seconds, microseconds } };
}

/**
 * Serialises a message as one line (bigints become hex strings: addresses and registers). Never
 * throws: a message that cannot be encoded becomes a GenericError reply without its id.
 */
export function encodeLine(message: unknown): string {
  const text = stringifySafely(message) ?? stringifySafely(errorReply('GenericError', 'the reply could not be encoded as JSON', undefined))!;
  return `${text}\n`;
}
