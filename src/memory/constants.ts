/** Geometry of guest memory shared by every layer. */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_OFFSET_MASK = PAGE_SIZE - 1;

/** MTE tags one 16-byte granule with 4 bits. */
export const GRANULE_SHIFT = 4;
export const GRANULE_SIZE = 1 << GRANULE_SHIFT;
export const GRANULES_PER_PAGE = PAGE_SIZE / GRANULE_SIZE;

/** Tag storage packs two 4-bit tags per byte: 1/32 of the memory it describes. */
export const PACKED_TAG_BYTES_PER_PAGE = GRANULES_PER_PAGE / 2;

/** Guest physical addresses must stay exact in a JS number (and within a 52-bit PA space). */
export const GPA_LIMIT = 2 ** 52;
