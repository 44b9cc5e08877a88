export * from './errno.js';
export * from './kvm-api.js';
export * from './vm.js';
export * from './vcpu.js';
export * from './vcpu-state.js';
export * from './arch-timer.js';
export * from './vgic/vgic-v3.js';
export { GIC_NR_IRQS, INTID_SPURIOUS } from './vgic/gic-state.js';
