/**
 * The one save/restore contract (STYLE.md, Firecracker's persist.rs): every stateful component
 * (vCPU, interrupt controller, timer, each device) implements it, and snapshots and live
 * migration are built only from it.
 *
 * State is plain data — numbers, strings, booleans, Uint8Array, arrays and objects of those —
 * with named fields (never positional slots) so it can be encoded, checked and evolved.
 * Restoring is two steps so that nothing is applied before everything is validated:
 *   1. `check(untrusted)` validates shape, types and ranges of state that came from a file or the
 *      network and returns it typed, or throws StateError naming the bad field; it changes nothing.
 *   2. `load(state)` applies state that passed `check`; it must not fail.
 */
export interface Stateful<S> {
  /** Section name in snapshots and migration streams, unique per machine (e.g. "gicv3"). */
  readonly stateName: string;
  /** Version of this component's state layout, independent of the package version. */
  readonly stateVersion: number;
  /**
   * The fields of each version this component reads (`version` <= stateVersion), checked by
   * `checkShape` before `check` runs: every field required, unknown fields refused, types
   * checked. Null for a version it cannot read. Adding a field is one `since(version, shape)`
   * line here and stateVersion + 1; older versions keep loading without it.
   */
  stateShape(version: number): Shape | null;
  save(): S;
  check(untrusted: unknown, version: number): S;
  load(state: S): void;
}

/** Invalid saved state: `path` names the field (e.g. "virtio-blk.queues[0].size"). */
export class StateError extends Error {
  override readonly name = 'StateError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Small validators for `check` implementations. */
export const expectState = {
  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw new StateError(path, 'expected an object');
    }
    return value as Record<string, unknown>;
  },
  integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new StateError(path, `expected an integer in [${min}, ${max}], got ${describe(value)}`);
    }
    return value;
  },
  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') throw new StateError(path, 'expected a boolean');
    return value;
  },
  bytes(value: unknown, path: string, length?: number): Uint8Array {
    if (!(value instanceof Uint8Array)) throw new StateError(path, 'expected bytes');
    if (length !== undefined && value.length !== length) throw new StateError(path, `expected ${length} bytes, got ${value.length}`);
    return value;
  },
  array(value: unknown, path: string, maxLength: number): unknown[] {
    if (!Array.isArray(value)) throw new StateError(path, 'expected an array');
    if (value.length > maxLength) throw new StateError(path, `array longer than ${maxLength}`);
    return value;
  },
  string(value: unknown, path: string, maxLength = 4096): string {
    if (typeof value !== 'string' || value.length > maxLength) throw new StateError(path, 'expected a string');
    return value;
  },
};

/** What a value is, for messages: never String() on untrusted data (a decoded object has no prototype). */
export function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return 'a string';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

// ---- The generic shape check (docs/snapshot-format.md, "Strictness") ----

/** The type of one field of saved state; ranges and cross-field rules stay in `check`. */
export type Shape =
  | 'integer'
  | 'boolean'
  | 'bytes'
  | 'string'
  | { readonly nullable: Shape }
  | { readonly arrayOf: Shape; readonly max: number }
  /** An object whose keys are data (e.g. registers by offset), each value of one shape. */
  | { readonly mapOf: Shape; readonly max: number }
  | { readonly fields: Readonly<Record<string, Field>> };

/** A field, or a field that exists only from state version `since` on. */
export type Field = Shape | { readonly since: number; readonly shape: Shape };

export const since = (version: number, shape: Shape): Field => ({ since: version, shape });

/** The fields of a shape that version `version` has. */
function fieldsAt(fields: Readonly<Record<string, Field>>, version: number): Map<string, Shape> {
  const out = new Map<string, Shape>();
  for (const [name, field] of Object.entries(fields)) {
    if (typeof field === 'object' && 'since' in field) {
      if (field.since <= version) out.set(name, field.shape);
    } else out.set(name, field);
  }
  return out;
}

/**
 * Checks `value` against `shape` at state version `version`: the one validation every component
 * state passes (a forged file with correct checksums is still untrusted). Throws StateError
 * naming the first bad field: a missing field, an unknown one, or a value of the wrong type.
 */
export function checkShape(value: unknown, shape: Shape, path: string, version: number): void {
  if (shape === 'integer') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new StateError(path, `expected an integer, got ${describe(value)}`);
  } else if (shape === 'boolean') {
    if (typeof value !== 'boolean') throw new StateError(path, `expected a boolean, got ${describe(value)}`);
  } else if (shape === 'bytes') {
    if (!(value instanceof Uint8Array)) throw new StateError(path, `expected bytes, got ${describe(value)}`);
  } else if (shape === 'string') {
    if (typeof value !== 'string') throw new StateError(path, `expected a string, got ${describe(value)}`);
  } else if ('nullable' in shape) {
    if (value !== null) checkShape(value, shape.nullable, path, version);
  } else if ('arrayOf' in shape) {
    const items = expectState.array(value, path, shape.max);
    items.forEach((item, i) => checkShape(item, shape.arrayOf, `${path}[${i}]`, version));
  } else if ('mapOf' in shape) {
    const entries = Object.entries(expectState.object(value, path));
    if (entries.length > shape.max) throw new StateError(path, `more than ${shape.max} entries`);
    for (const [key, item] of entries) checkShape(item, shape.mapOf, `${path}.${key}`, version);
  } else {
    const object = expectState.object(value, path);
    const expected = fieldsAt(shape.fields, version);
    for (const key of Object.keys(object)) {
      if (!expected.has(key)) throw new StateError(`${path}.${key}`, `unknown field (state version ${version})`);
    }
    for (const [key, field] of expected) {
      if (!Object.hasOwn(object, key) || object[key] === undefined) throw new StateError(`${path}.${key}`, 'missing');
      checkShape(object[key], field, `${path}.${key}`, version);
    }
  }
}

/**
 * Validates untrusted state for `component` completely: the version it must be able to read,
 * the generic shape, then the component's own range and consistency rules. Returns it typed.
 */
export function checkState<S>(component: Stateful<S>, untrusted: unknown, version: number): S {
  const shape = version >= 1 && version <= component.stateVersion ? component.stateShape(version) : null;
  if (!shape) throw new StateError(component.stateName, `unsupported state version ${version} (this build reads up to ${component.stateVersion})`);
  checkShape(untrusted, shape, component.stateName, version);
  return component.check(untrusted, version);
}
