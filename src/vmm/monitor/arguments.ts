import { MonitorError } from './protocol.js';

/**
 * Argument checking for monitor commands: each command declares its arguments, and nothing
 * reaches a handler that does not match the declaration (unknown arguments are refused too, so a
 * typo never silently falls back to a default).
 */
export type ArgType =
  | { readonly type: 'string'; readonly maxLength?: number }
  | { readonly type: 'boolean' }
  | { readonly type: 'integer'; readonly min: number; readonly max: number }
  /** A 64-bit address: a JSON integer (exact) or a string, "0x..." hex or decimal. */
  | { readonly type: 'address' }
  /** Hex digits (an even count for bytes, any count for tag nibbles), at most `maxDigits`. */
  | { readonly type: 'hex'; readonly maxDigits: number; readonly bytes: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[] };

export interface ArgSpec {
  readonly [name: string]: ArgType & { readonly optional?: boolean; readonly description: string };
}

export type ArgValue = string | boolean | number | bigint;

const U64_MAX = (1n << 64n) - 1n;

/** Validates `raw` (the request's "arguments") against `spec`; returns the converted values. */
export function checkArguments(spec: ArgSpec, raw: unknown): Record<string, ArgValue> {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid("'arguments' must be an object");
  const given = raw as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(spec, name)) throw invalid(`unknown argument '${name}'`);
  }
  const out: Record<string, ArgValue> = {};
  for (const [name, type] of Object.entries(spec)) {
    const value = given[name];
    if (value === undefined) {
      if (!type.optional) throw invalid(`missing argument '${name}'`);
      continue;
    }
    out[name] = convert(name, type, value);
  }
  return out;
}

function convert(name: string, type: ArgType, value: unknown): ArgValue {
  switch (type.type) {
    case 'string':
      if (typeof value !== 'string' || value.length > (type.maxLength ?? 4096)) throw invalid(`'${name}' must be a string`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(`'${name}' must be a boolean`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < type.min || value > type.max) {
        throw invalid(`'${name}' must be an integer in [${type.min}, ${type.max}]`);
      }
      return value;
    case 'address':
      return parseAddress(name, value);
    case 'hex': {
      if (typeof value !== 'string' || !/^[0-9a-fA-F]*$/.test(value)) throw invalid(`'${name}' must be a string of hex digits`);
      if (value.length > type.maxDigits) throw invalid(`'${name}' is longer than ${type.maxDigits} hex digits`);
      if (type.bytes && value.length % 2 !== 0) throw invalid(`'${name}' must have an even number of hex digits (whole bytes)`);
      return value;
    }
    case 'enum':
      if (typeof value !== 'string' || !type.values.includes(value)) throw invalid(`'${name}' must be one of ${type.values.map((v) => `'${v}'`).join(', ')}`);
      return value;
  }
}

function parseAddress(name: string, value: unknown): bigint {
  let result: bigint | null = null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) result = BigInt(value);
  else if (typeof value === 'string' && /^(0[xX][0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(value)) result = BigInt(value);
  if (result === null || result > U64_MAX) throw invalid(`'${name}' must be a 64-bit address: a non-negative integer or a "0x..." string`);
  return result;
}

function invalid(message: string): MonitorError {
  return new MonitorError('InvalidParameter', message);
}
