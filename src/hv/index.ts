export * from './errno.js';
export * from './kvm-api.js';
export * from './vm.js';
export * from './vcpu.js';
export * from './vcpu-state.js';
