/**
 * Limits on the JSON a front end accepts from a client (the monitor's lines, the live viewer's
 * messages). JSON.parse copes with any nesting, but JSON.stringify recurses, so a request whose
 * `id` nests 100,000 arrays would overflow the stack when its reply is encoded: requests nested
 * deeper than MAX_JSON_DEPTH are refused before they are parsed (docs/monitor-api.md).
 */

/** Deepest nesting of arrays and objects accepted in one request; commands need three levels. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when `text` opens more than `max` arrays or objects at once. A linear scan of the text that
 * skips strings (their brackets do not count); it does not validate the JSON, JSON.parse does.
 */
export function nestedDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * JSON.stringify that never throws: a value that cannot be encoded (nested too deeply for the
 * stack, cyclic) yields null, and the caller sends an error instead. Bigints become "0x..." hex.
 */
export function stringifySafely(value: unknown): string | null {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
  } catch {
    return null;
  }
}
