import type { CpuSnapshot } from '../protocol.js';
import { h } from './dom.js';

/** SIMD&FP state (docs/fp-simd.md): FPCR, FPSR, then V0-V31 as 128-bit values. */
const SIMD = ['fpcr', 'fpsr', ...Array.from({ length: 32 }, (_, n) => `v${n}`)];
const SYSTEM = ['sctlr_el1', 'tcr_el1', 'esr_el1', 'far_el1', 'elr_el1', 'spsr_el1', 'vbar_el1', 'ttbr0_el1', 'gcr_el1', 'rgsr_el1', 'tag_ctl', 'sp_el0', 'sp_el1'];

/** The vCPU's registers, PSTATE and MTE controls, shown while the machine is stopped. */
export class RegisterView {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly note: HTMLElement;
  private previous: Readonly<Record<string, string>> = {};

  constructor() {
    this.body = h('div', { class: 'registers' });
    this.note = h('span', { class: 'register-note', text: 'pause to inspect' });
    this.element = h('section', { class: 'panel register-view' }, h('header', {}, h('h2', { text: 'vCPU' }), this.note), this.body);
  }

  /** Registers shown are stale while the guest runs. */
  setRunning(running: boolean): void {
    this.element.classList.toggle('stale', running);
    this.note.textContent = running ? 'running — pause to inspect' : '';
  }

  clear(): void {
    this.body.textContent = '';
    this.previous = {};
  }

  show(cpu: CpuSnapshot): void {
    const { mte, registers } = cpu;
    const cpsr = Number.parseInt(registers.cpsr ?? '0', 16);
    const flags = ['N', 'Z', 'C', 'V'].map((f, i) => ((cpsr >>> (31 - i)) & 1 ? f : '-')).join('');
    const facts: [string, string][] = [
      ['EL', `EL${cpu.el}${cpu.spsel ? 'h' : 't'}`],
      ['NZCV', flags],
      ['TCO', mte.tco ? '1 (checks overridden)' : '0'],
      ['TCF (EL1)', mte.el1.tcf],
      ['TCF0 (EL0)', mte.el0.tcf],
      ['ATA / ATA0', `${mte.el1.tagAccess ? 1 : 0} / ${mte.el0.tagAccess ? 1 : 0}`],
      ['GCR exclude', `0x${mte.gcrExclude.toString(16).padStart(4, '0')}`],
      ['TFSR_EL1 / TFSRE0', `${mte.tfsrEl1} / ${mte.tfsre0El1}`],
    ];
    const state = h('dl', { class: 'pstate' }, ...facts.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { 'data-fact': k, text: v })]));
    if (!mte.enabled) state.append(h('dt', { text: 'MTE' }), h('dd', { text: 'off for this VM' }));
    const names = ['pc', 'sp', 'cpsr', ...Array.from({ length: 31 }, (_, n) => `x${n}`)];
    const grid = h('div', { class: 'gprs' }, ...names.map((name) => this.cell(name, registers)));
    const system = h('div', { class: 'sysregs' }, ...SYSTEM.filter((name) => name in registers).map((name) => this.cell(name, registers)));
    const simd = h('div', { class: 'simdregs' }, ...SIMD.filter((name) => name in registers).map((name) => this.cell(name, registers)));
    this.body.replaceChildren(state, grid, system, simd);
    this.previous = registers;
  }

  private cell(name: string, registers: Readonly<Record<string, string>>): HTMLElement {
    const value = registers[name] ?? '';
    const changed = this.previous[name] !== undefined && this.previous[name] !== value;
    return h('div', { class: changed ? 'reg changed' : 'reg', 'data-reg': name }, h('span', { class: 'name', text: name }), h('span', { class: 'value', text: value.replace(/^0x/, '') }));
  }
}
