/**
 * Tagvisor as a library: a VMM for AArch64 guests that use the Memory Tagging Extension.
 *
 * This entry runs in Node and in browsers (no `node:` imports). Node adapters (a run loop that
 * yields to the event loop, file-backed disks, migration over TCP) are in `tagvisor/node`; the
 * layers below are `tagvisor/memory`, `tagvisor/cpu` and `tagvisor/hv` (docs/design.md).
 *
 * ```ts
 * import { VirtMachine } from 'tagvisor';
 * const machine = new VirtMachine({ memoryBytes: 64 * 2 ** 20, mte: true });
 * machine.events.on('output', (bytes) => process.stdout.write(bytes));
 * machine.loadElf(guestImage);
 * while (machine.state === 'running') machine.runSlice(1_000_000);
 * console.log(machine.shutdown); // e.g. { kind: 'semihosting-exit', code: 0 }
 * ```
 *
 * @module tagvisor
 */

// The machine: QEMU virt-compatible board, its options, states and events.
export {
  DEFAULT_RAM_BYTES,
  RAM_BASE,
  VirtMachine,
  type MachineEvents,
  type MachineOptions,
  type MachineState,
  type Shutdown,
  type StopReason,
} from './vmm/machine.js';
export { Emitter } from './vmm/events.js';
export { ElfError, parseElf, type ElfImage, type ElfSegment } from './vmm/elf.js';
export { PL011_BASE, Pl011 } from './vmm/devices/pl011.js';
export { VIRTIO_MMIO_BASE, VIRTIO_MMIO_SLOTS, VirtDevices, virtioIntid, type VirtDeviceOptions } from './vmm/virt-devices.js';
export type { DmaMode } from './vmm/dma-path.js';
export type { BlockBackend } from './vmm/devices/virtio/index.js';
export { ProtectedMode, type ProtectedOptions } from './vmm/protected.js';

// Guest memory and the VMM's access classes (guest / dma / debug / migration, protected-VM policy).
export {
  DebugAccess,
  DmaAccess,
  GuestMemory,
  GuestMemoryError,
  GuestRequestAccess,
  MigrationAccess,
  PageOwnership,
  allowAllPolicy,
  gpa,
  ownershipPolicy,
  type AccessClass,
  type AccessOp,
  type AccessPolicy,
  type AccessRequest,
  type GuestMemoryErrorCode,
  type GuestPhysAddr,
  type OwnershipPolicyOptions,
  type PageTagState,
  type RegionDirtyLog,
} from './memory/index.js';

// The KVM-shaped hypervisor interface under the machine.
export { KvmError, Vcpu, Vm } from './hv/index.js';

// Live migration and snapshots: streams of memory, tags, vCPU and devices.
export {
  CapabilityError,
  FORMAT_VERSION,
  KEY_BYTES,
  MigrationSource,
  StreamFormatError,
  createChannelPair,
  loadSealedSnapshot,
  loadSnapshot,
  parseKey,
  receiveMigration,
  saveSealedSnapshot,
  saveSnapshot,
  type ChannelFaults,
  type FailureOutcome,
  type MigrationChannel,
  type MigrationOptions,
  type MigrationProgress,
  type MigrationStatus,
  type RawSection,
} from './vmm/migration/index.js';

// The JSON monitor (QMP-like; docs/monitor-api.md) and the debugger model behind the gdb stub.
export {
  Monitor,
  MonitorError,
  MonitorSession,
  PROTOCOL_VERSION,
  type ArgSpec,
  type ArgType,
  type ArgValue,
  type CommandContext,
  type CommandDef,
  CommandRegistry,
  type ErrorClass,
  MonitorEventHub,
  type MonitorContext,
  type MonitorSessionOptions,
  type MonitorTransport,
} from './vmm/monitor/index.js';
export { DebugError, DebugMemoryView, Debugger, RegisterFile, type DebugErrorCode, type DebugStop, type GuestMapping } from './vmm/debug/index.js';

// The save/restore contract every stateful component implements.
export { StateError, type Shape, type Stateful } from './common/persist.js';
