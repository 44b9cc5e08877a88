/**
 * The in-kernel vGIC and arch timer through the KVM-shaped interface: KVM_CREATE_DEVICE and
 * KVM_IRQ_LINE errors, ID_AA64PFR0_EL1.GIC, and deterministic time (slices that end exactly at
 * timer deadlines, WFI that idles the counter to the next deadline).
 */
import { describe, expect, it } from 'vitest';
import { IRQ_LINE } from '../../src/cpu/cpu.js';
import { R } from '../../src/cpu/int64.js';
import { sysKey } from '../../src/cpu/sysregs.js';
import { KvmError, Vm, type Vcpu } from '../../src/hv/index.js';

const RAM = 0x4000_0000;
const CNTV_CTL = sysKey(3, 3, 14, 3, 1);
const CNTV_CVAL = sysKey(3, 3, 14, 3, 2);
const ICC_IAR1 = sysKey(3, 0, 12, 12, 0);
const ICC_PMR = sysKey(3, 0, 4, 6, 0);
const ICC_IGRPEN1 = sysKey(3, 0, 12, 12, 7);
const ID_AA64PFR0 = 0xd538_0400; // MRS x0, ID_AA64PFR0_EL1

function expectKvm(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KvmError);
    expect((error as KvmError).code).toBe(code);
    return;
  }
  throw new Error(`expected KvmError ${code}`);
}

/** A VM whose RAM holds `words` at RAM (the vCPU starts there with the MMU off). */
function vmWith(words: number[], gic = true): { vm: Vm; vcpu: Vcpu } {
  const vm = new Vm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM, memorySize: 1 << 20 });
  const vcpu = vm.createVcpu(0);
  if (gic) vm.createDevice('arm-vgic-v3');
  const code = new Uint8Array(words.length * 4);
  words.forEach((w, i) => new DataView(code.buffer).setUint32(4 * i, w >>> 0, true));
  vm.memory.dma.write(RAM, code);
  vcpu.reset(BigInt(RAM));
  return { vm, vcpu };
}

/** Distributor on, redistributor awake, PPI 27 group 1 enabled, CPU interface open. */
function openGic(vm: Vm, vcpu: Vcpu): void {
  const d = vm.memory.space.findMmio(0x0800_0000)!.handler;
  const r = vm.memory.space.findMmio(0x080a_0000)!.handler;
  d.write(0, 4, 3);
  r.write(0x14, 4, 0);
  r.write(0x1_0080, 4, 1 << 27);
  r.write(0x1_0100, 4, 1 << 27);
  r.write(0x1_0400 + 27, 1, 0x80);
  vcpu.sysregs.write(vcpu.cpu, ICC_PMR, 0xff, 0);
  vcpu.sysregs.write(vcpu.cpu, ICC_IGRPEN1, 1, 0);
}

describe('KVM_CREATE_DEVICE and KVM_IRQ_LINE', () => {
  it('creates one vGICv3 per VM and checks INTIDs', () => {
    const vm = new Vm();
    vm.createVcpu(0);
    expectKvm(() => vm.irqLine(40, true), 'ENXIO');
    expectKvm(() => vm.createDevice('arm-vgic-v2' as 'arm-vgic-v3'), 'ENODEV');
    vm.createDevice('arm-vgic-v3');
    expectKvm(() => vm.createDevice('arm-vgic-v3'), 'EEXIST');
    expectKvm(() => vm.irqLine(3, true), 'EINVAL');
    expectKvm(() => vm.irqLine(288, true), 'EINVAL');
    expectKvm(() => vm.irqLine(27, true, 5), 'EINVAL');
    vm.irqLine(40, true);
    vm.irqLine(27, true, 0);
  });

  it('refuses a vGIC over existing MMIO', () => {
    const vm = new Vm();
    vm.memory.space.addMmio(0x0800_0000, 0x1000, 'other', { read: () => 0, write: () => {} });
    expectKvm(() => vm.createDevice('arm-vgic-v3'), 'EEXIST');
  });

  it('ID_AA64PFR0_EL1.GIC reports the system-register interface only with a vGICv3', () => {
    for (const gic of [false, true]) {
      const { vcpu } = vmWith([ID_AA64PFR0], gic);
      vcpu.run(1);
      expect((Number(vcpu.getX(0)) >>> 24) & 0xf).toBe(gic ? 1 : 0);
    }
  });

  it('ICC registers are UNDEFINED without a vGIC', () => {
    const { vcpu } = vmWith([0xd538_cc00], false); // MRS x0, ICC_IAR1_EL1
    vcpu.run(1);
    expect(vcpu.pc).toBe(0x200n); // VBAR_EL1 = 0: current EL with SPx, synchronous
  });
});

describe('deterministic time', () => {
  it('WFI idles the counter exactly to the timer deadline, and the interrupt is signalled there', () => {
    // wfi; b .
    const { vm, vcpu } = vmWith([0xd503_207f, 0x1400_0000]);
    openGic(vm, vcpu);
    vcpu.sysregs.write(vcpu.cpu, CNTV_CVAL, 5000, 0);
    vcpu.sysregs.write(vcpu.cpu, CNTV_CTL, 1, 0);
    vcpu.cpu.exitReason = 0;
    const exit = vcpu.run(100);
    expect(exit.reason).toBe('budget');
    expect(vcpu.lastRunInstructions).toBe(100);
    // One instruction (the WFI) at counter 0, idle to 5000, then 99 more.
    expect(vcpu.cpu.idleTicks).toBe(4999);
    expect(vcpu.cpu.counter()).toBe(5099);
    expect(vcpu.cpu.irqLines & IRQ_LINE).toBe(IRQ_LINE); // masked by PSTATE.I, still signalled
    vcpu.sysregs.read(vcpu.cpu, ICC_IAR1);
    expect(R.lo).toBe(27);
  });

  it('a slice ends exactly at a deadline: the interrupt is taken at that instruction', () => {
    // msr daifclr, #2; 1: add x1, x1, #1; b 1b
    const { vm, vcpu } = vmWith([0xd503_42ff, 0x9100_0421, 0x17ff_ffff]);
    openGic(vm, vcpu);
    vcpu.sysregs.write(vcpu.cpu, CNTV_CVAL, 1001, 0);
    vcpu.sysregs.write(vcpu.cpu, CNTV_CTL, 1, 0);
    vcpu.cpu.exitReason = 0;
    vcpu.run(5000);
    // The IRQ vector (VBAR 0 + 0x280) was entered when the counter reached 1001: ELR = the
    // instruction that would have run next. 1 (msr) + 1000 loop instructions: 500 iterations.
    expect(Number(vcpu.getX(1))).toBe(500);
  });

  it('a timer written during a slice cuts the slice at its new deadline', () => {
    // msr daifclr, #2; msr cntv_cval_el0, x2; msr cntv_ctl_el0, x3; 1: add x1, x1, #1; b 1b
    const { vm, vcpu } = vmWith([0xd503_42ff, 0xd51b_e342, 0xd51b_e323, 0x9100_0421, 0x17ff_ffff]);
    openGic(vm, vcpu);
    vcpu.setX(2, 303n);
    vcpu.setX(3, 1n);
    vcpu.run(5000);
    // Counter 3 after the three set-up instructions; the deadline 303 leaves 300 loop
    // instructions: 150 increments.
    expect(Number(vcpu.getX(1))).toBe(150);
  });
});

describe('far deadlines', () => {
  it('WFI does not idle the counter to a deadline 2^63 ticks away: it exits to the VMM', () => {
    const { vm, vcpu } = vmWith([0xd503_207f, 0x1400_0000]);
    openGic(vm, vcpu);
    vcpu.sysregs.write(vcpu.cpu, CNTV_CVAL, 0, 0x8000_0000 | 0);
    vcpu.sysregs.write(vcpu.cpu, CNTV_CTL, 1, 0);
    expect(vcpu.run(100).reason).toBe('wfi');
    expect(vcpu.cpu.idleTicks).toBe(0);
  });
});
