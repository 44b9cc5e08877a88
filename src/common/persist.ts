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
      throw new StateError(path, `expected an integer in [${min}, ${max}], got ${String(value)}`);
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
