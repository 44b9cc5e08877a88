/**
 * The AArch64 core, as the layers above see it (docs/design.md, "Layers"): the hypervisor
 * drives a `Cpu`, the VMM's debugger and monitor read its state, the front ends observe its
 * tag-check faults. Everything else in src/cpu (decoder, executors, TLB, slow paths) is
 * internal; upper layers import only this file (`npm run lint` enforces it).
 *
 * @module cpu
 */

/** The core, its run loop's exit codes, interrupt lines and the externally served system registers. */
export { Cpu, CPU_ENGINES, Exit, FIQ_LINE, IRQ_LINE, type CpuEngine, type CpuOptions, type ExternalSysRegs, type TagFaultInfo } from './cpu.js';

/** Register slots and 64-bit values held as two 32-bit halves (`R` is the shared result pair). */
export { SP_SLOT } from './regs.js';
export { R, toBig } from './int64.js';

/** System registers: the core's own (`Sys`, by name) and the encoding table shared with `ExternalSysRegs`. */
export { Sys, SYS_NAMES, type SysName } from './sysreg-state.js';
export { EL0_OK, EL0_TRAP, EL0_UNDEF, allSysRegs, sysKey, type SysRegDef } from './sysregs.js';

/** SIMD&FP control and status: the FPCR and FPSR bits the core keeps (docs/fp-simd.md). */
export { FPCR_MASK, FPSR_MASK } from './isa/fp-move.js';

/** PSTATE bits and the exception entries the hypervisor injects. */
export { PSR } from './exceptions.js';
export { pstateToSpsr, undefinedInstruction } from './exception-entry.js';

/** Address translation as a debugger sees it (no TLB fill, no fault taken). */
export { debugTranslate, type DebugTranslation } from './debug-translate.js';
export { ATTR_TAGGED, PERM_ALL, PERM_R0, PERM_R1, PERM_W0, PERM_W1, PERM_X0, PERM_X1, isDeviceAttr, translate, type TranslationRegime, type WalkResult } from './mmu/translate.js';

/** Breakpoints and watchpoints (the gdb stub's hooks into the run loop). */
export { CpuDebug, MAX_BREAKPOINTS, MAX_WATCHPOINTS, type DebugHit, type WatchKind } from './debug-hooks.js';
