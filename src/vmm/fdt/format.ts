/** Constants of the flattened device tree blob (Devicetree Specification v0.4, chapter 5). */
export const FDT_MAGIC = 0xd00dfeed;
/** The version Tagvisor writes, and the oldest one it reads (17 is compatible back to 16). */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_MIN_READ_VERSION = 16;
export const FDT_HEADER_SIZE = 40;

export const FDT_BEGIN_NODE = 1;
export const FDT_END_NODE = 2;
export const FDT_PROP = 3;
export const FDT_NOP = 4;
export const FDT_END = 9;

/** Linux maps the DTB with blocks of up to 2 MiB and refuses a larger blob (arm64 booting.rst). */
export const FDT_MAX_SIZE = 2 * 1024 * 1024;
