// The save/restore contract moved to src/common/persist.ts (every layer implements it).
export * from '../common/persist.js';
