import type { HostCommand, MachineStatus } from '../protocol.js';
import { h } from './dom.js';

/** Pause / continue / step / reset, and a status line (state, instructions, guest MIPS). */
export class Controls {
  readonly element: HTMLElement;
  private readonly buttons: Record<'pause' | 'resume' | 'step' | 'reset', HTMLButtonElement>;
  private readonly statusLine: HTMLElement;
  /** Live viewer: false when the server is read-only or gone (the buttons stay disabled, and say why). */
  private allowed = true;
  private last: MachineStatus | null = null;

  constructor(send: (command: HostCommand) => void) {
    const make = (type: 'pause' | 'resume' | 'step' | 'reset', text: string, title: string) => {
      const button = h('button', { type: 'button', class: `control-${type}`, text, title, 'data-title': title, disabled: true });
      button.addEventListener('click', () => send({ type }));
      return button;
    };
    this.buttons = {
      pause: make('pause', 'Pause', 'stop the vCPU between instructions'),
      resume: make('resume', 'Continue', 'run on'),
      step: make('step', 'Step', 'execute one instruction'),
      reset: make('reset', 'Reset', 'restart the guest: memory reloaded, tags forgotten'),
    };
    this.statusLine = h('span', { class: 'status', 'data-state': 'empty', text: 'no guest loaded' });
    this.element = h('div', { class: 'controls' }, this.buttons.pause, this.buttons.resume, this.buttons.step, this.buttons.reset, this.statusLine);
  }

  /** Live viewer: whether this connection may change the VM; `why` becomes the buttons' tooltip when not. */
  setAllowed(allowed: boolean, why = ''): void {
    this.allowed = allowed;
    this.element.dataset.control = allowed ? 'on' : 'off';
    for (const button of Object.values(this.buttons)) {
      if (!allowed) button.title = why;
      else button.title = button.dataset.title ?? button.title;
    }
    if (this.last) this.update(this.last);
    else if (!allowed) for (const button of Object.values(this.buttons)) button.disabled = true;
  }

  update(status: MachineStatus): void {
    this.last = status;
    const { state } = status;
    const off = !this.allowed;
    this.buttons.pause.disabled = off || state !== 'running';
    this.buttons.resume.disabled = off || state !== 'paused';
    this.buttons.step.disabled = off || state !== 'paused';
    this.buttons.reset.disabled = off || state === 'created';
    const mips = status.runMs > 0 ? ` · ${(status.instructions / status.runMs / 1000).toFixed(1)} MIPS` : '';
    const why = state === 'paused' && status.stopReason ? ` (${status.stopReason})` : state === 'shutdown' && status.shutdown ? `: ${status.shutdown}` : '';
    this.statusLine.dataset.state = state;
    this.statusLine.textContent = `${state}${why} · ${status.instructions.toLocaleString('en')} instructions${mips}`;
  }
}
