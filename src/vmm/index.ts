export * from './machine.js';
export * from './elf.js';
export * from './psci.js';
export * from './semihosting.js';
export * from './devices/pl011.js';
export * from './events.js';
export * from './boot/index.js';
