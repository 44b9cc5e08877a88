import { expectState, StateError, type Shape, type Stateful } from '../common/persist.js';
import type { ElfImage } from './elf.js';

/** The machine's own state: the boot image (so a reset after migration reboots) and its clock. */
export interface MachineStateData {
  readonly image: null | {
    readonly entry: Uint8Array;
    readonly segments: readonly { readonly paddr: number; readonly memSize: number; readonly data: Uint8Array }[];
  };
  readonly instructions: number;
}

export interface MachineStateHost {
  image: ElfImage | null;
  instructions: number;
  readonly ramBase: number;
  readonly ramBytes: number;
}

export class MachinePersistence implements Stateful<MachineStateData> {
  readonly stateName = 'machine';
  readonly stateVersion = 1;

  constructor(private readonly host: MachineStateHost) {}

  save(): MachineStateData {
    const image = this.host.image;
    const entry = new Uint8Array(8);
    if (image) new DataView(entry.buffer).setBigUint64(0, image.entry, true);
    return {
      image: image && {
        entry,
        segments: image.segments.map((s) => ({ paddr: s.paddr, memSize: s.memSize, data: s.data.slice() })),
      },
      instructions: this.host.instructions,
    };
  }

  stateShape(): Shape {
    const segment: Shape = { fields: { paddr: 'integer', memSize: 'integer', data: 'bytes' } };
    return { fields: { image: { nullable: { fields: { entry: 'bytes', segments: { arrayOf: segment, max: 256 } } } }, instructions: 'integer' } };
  }

  check(untrusted: unknown, version: number): MachineStateData {
    if (version !== this.stateVersion) throw new StateError('machine', `unsupported state version ${version}`);
    const s = expectState.object(untrusted, 'machine');
    expectState.integer(s.instructions, 'machine.instructions', 0, Number.MAX_SAFE_INTEGER);
    if (s.image !== null) {
      const image = expectState.object(s.image, 'machine.image');
      expectState.bytes(image.entry, 'machine.image.entry', 8);
      const segments = expectState.array(image.segments, 'machine.image.segments', 256);
      segments.forEach((raw, i) => {
        const path = `machine.image.segments[${i}]`;
        const seg = expectState.object(raw, path);
        const paddr = expectState.integer(seg.paddr, `${path}.paddr`, this.host.ramBase, this.host.ramBase + this.host.ramBytes);
        const memSize = expectState.integer(seg.memSize, `${path}.memSize`, 0, this.host.ramBase + this.host.ramBytes - paddr);
        const data = expectState.bytes(seg.data, `${path}.data`);
        if (data.length > memSize) throw new StateError(`${path}.data`, 'longer than the segment');
      });
    }
    return untrusted as MachineStateData;
  }

  load(state: MachineStateData): void {
    this.host.instructions = state.instructions;
    this.host.image = state.image && {
      entry: new DataView(state.image.entry.buffer, state.image.entry.byteOffset).getBigUint64(0, true),
      segments: state.image.segments.map((s) => ({ paddr: s.paddr, memSize: s.memSize, data: s.data })),
    };
  }
}
