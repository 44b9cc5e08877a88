/**
 * The front ends' shared secret (`--auth-token-file`, docs/monitor-api.md "Who may connect"): a
 * monitor client sends it in qmp_capabilities' arguments or a first `authenticate` command, a
 * live viewer in its WebSocket URL or first message.
 */

/** Failed attempts after which a connection is closed. */
export const MAX_AUTH_FAILURES = 3;

/** Compares in time that depends only on the lengths, not on where the first difference is. */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (i < given.length ? given.charCodeAt(i) : 0);
  return diff === 0;
}
