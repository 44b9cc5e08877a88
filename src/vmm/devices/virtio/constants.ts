/**
 * Constants of the virtio 1.2 specification (OASIS, virtio-v1.2-cs01) that the transport and the
 * devices use. Section numbers refer to that document.
 */

/** §4.2.2 MMIO Device Register Layout (offsets within a transport's 0x200-byte window). */
export const MMIO = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  QUEUE_RESET: 0x0c0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** "virt" in little-endian. */
export const MMIO_MAGIC = 0x7472_6976;
/** Version 2: the modern (virtio 1.x) transport; legacy devices report 1. */
export const MMIO_VERSION = 2;
/** QEMU's vendor ID ("QEMU"), reported by QEMU's virtio-mmio transports; kept for compatibility. */
export const MMIO_VENDOR = 0x554d_4551;
export const MMIO_WINDOW = 0x200;

/** §2.1 Device Status Field. */
export const STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** §4.2.2 InterruptStatus bits. */
export const INT_USED_BUFFER = 1;
export const INT_CONFIG_CHANGE = 2;

/** §6 Reserved Feature Bits (the ones Tagvisor knows). */
export const F_INDIRECT_DESC = 28n;
export const F_EVENT_IDX = 29n;
export const F_VERSION_1 = 32n;
export const F_ACCESS_PLATFORM = 33n;

/** §2.7.5 The Virtqueue Descriptor Table: flags. */
export const DESC_F_NEXT = 1;
export const DESC_F_WRITE = 2;
export const DESC_F_INDIRECT = 4;
/** §2.7.6 / §2.7.8 ring flags. */
export const AVAIL_F_NO_INTERRUPT = 1;

/** §5 Device Types: IDs. */
export const DEVICE_ID = { NONE: 0, BLOCK: 2, CONSOLE: 3 } as const;

export const bit = (n: bigint): bigint => 1n << n;
