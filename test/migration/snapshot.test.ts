import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../src/vmm/index.js';
import { decodeRam, loadSnapshot, saveSnapshot, Section } from '../../src/vmm/migration/index.js';
import { joinSections, sectionsOf } from './forge.js';

const GUESTS = join(import.meta.dirname, '../../guests');
const image = (name: string) => readFileSync(join(GUESTS, 'build', `${name}.elf`));

interface Transcript {
  out: string;
  status: string;
}

/** 64 MiB: the smallest RAM the guests support keeps each snapshot cheap. */
function newMachine(mte = true): VirtMachine {
  return new VirtMachine({ memoryBytes: 64 * 2 ** 20, mte });
}

function collect(machine: VirtMachine, into: Uint8Array[]): void {
  machine.events.on('output', (bytes) => into.push(bytes.slice()));
}

/** Runs a machine to shutdown; returns how it ended. */
function finish(machine: VirtMachine): string {
  for (let slices = 0; machine.state === 'running' && slices < 1000; slices++) machine.runSlice(1_000_000);
  const s = machine.shutdown;
  return s === null ? 'still running' : s.kind === 'semihosting-exit' ? `exit ${s.code}` : s.kind;
}

function reference(guest: string): Transcript & { instructions: number } {
  const machine = newMachine();
  const out: Uint8Array[] = [];
  collect(machine, out);
  machine.loadElf(image(guest));
  const status = finish(machine);
  return { out: Buffer.concat(out).toString('latin1'), status, instructions: machine.instructions };
}

/** Runs `at` instructions, snapshots, restores into a fresh machine, runs to the end there. */
function snapshotAt(guest: string, at: number): Transcript {
  const source = newMachine();
  const out: Uint8Array[] = [];
  collect(source, out);
  source.loadElf(image(guest));
  source.runSlice(at);
  source.pause();
  const chunks = saveSnapshot(source);
  const target = newMachine();
  collect(target, out);
  loadSnapshot(target, Buffer.concat(chunks));
  target.resume();
  const status = finish(target);
  return { out: Buffer.concat(out).toString('latin1'), status };
}

function pausedMachine(): { machine: VirtMachine; snapshot: Uint8Array } {
  const machine = newMachine();
  machine.loadElf(image('demo'));
  machine.runSlice(20_000);
  machine.pause();
  return { machine, snapshot: Buffer.concat(saveSnapshot(machine)) };
}

function fingerprint(machine: VirtMachine): string {
  const state = machine.components().map((c) => c.save());
  const page = new Uint8Array(4096);
  machine.vm.memory.migration.readPage(0x4008_0000, page);
  return JSON.stringify(state, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)) + Buffer.from(page).toString('hex');
}

describe('snapshots carry memory, tags, vCPU and devices: a guest cannot tell', () => {
  it.each(['demo', 'heap', 'mte-async', 'mte-el0', 'mte-tagmem', 'isa-mem'])('%s, snapshotted at 12 points', (guest) => {
    const truth = reference(guest);
    expect(truth.status).toMatch(/exit|system-off/);
    for (let k = 1; k <= 12; k++) {
      const at = Math.floor((truth.instructions * k) / 13);
      const run = snapshotAt(guest, at);
      expect({ at, ...run }).toEqual({ at, out: truth.out, status: truth.status });
    }
  });

  it('the tagging workload (IRG/ST2G, checked loads, use-after-free after the switch), at 2 points', () => {
    const truth = reference('bench-mte');
    expect(truth.out).toMatch(/use after free: ESR=96000011/);
    for (const fraction of [0.3, 0.97]) {
      const at = Math.floor(truth.instructions * fraction);
      expect(snapshotAt('bench-mte', at)).toEqual({ out: truth.out, status: truth.status });
    }
  });
});

describe('a bad snapshot changes nothing', () => {
  it.each([
    ['truncated in the middle', (s: Uint8Array) => s.subarray(0, s.length >> 1), /truncated/],
    ['truncated before END', (s: Uint8Array) => s.subarray(0, s.length - 10), /truncated/],
    ['one flipped bit in a page', (s: Uint8Array) => { const c = s.slice(); c[c.length >> 1]! ^= 0x10; return c; }, /checksum mismatch/],
    ['bad magic', (s: Uint8Array) => { const c = s.slice(); c[8] = 0x58; return c; }, /checksum mismatch|bad magic/],
    ['garbage', () => new Uint8Array(1000).fill(0x41), /not a Tagvisor migration stream or snapshot \(it starts with byte 0x41/],
    ['an unknown section type after HELLO', (s: Uint8Array) => {
      const c = s.slice();
      c[8 + new DataView(c.buffer).getUint32(4, true) + 4] = 0x7f; // the second section's type byte
      return c;
    }, /section at byte \d+: unknown section type 0x7f/],
    ['empty file', () => new Uint8Array(0), /empty/],
  ])('%s', (_name, corrupt, reason) => {
    const { snapshot } = pausedMachine();
    const victim = newMachine();
    victim.loadElf(image('heap'));
    victim.runSlice(5_000);
    victim.pause();
    const before = fingerprint(victim);
    expect(() => loadSnapshot(victim, corrupt(snapshot))).toThrow(reason);
    expect(fingerprint(victim)).toBe(before);
    expect(victim.state).toBe('paused');
  });

  it('refuses a snapshot of an MTE VM on a VM without MTE (capability mismatch)', () => {
    const { snapshot } = pausedMachine();
    const noMte = newMachine(false);
    expect(() => loadSnapshot(noMte, snapshot)).toThrow(/source VM has MTE and the destination does not/);
  });

  it('refuses a snapshot for a different RAM size', () => {
    const { snapshot } = pausedMachine();
    const small = new VirtMachine({ memoryBytes: 128 * 2 ** 20 });
    expect(small.memoryBytes).not.toBe(newMachine().memoryBytes);
    expect(() => loadSnapshot(small, snapshot)).toThrow(/RAM layout differs/);
  });
});

describe('format versions (docs/migration-protocol.md §3.1)', () => {
  /** Rewrites a format-3 snapshot as format 2 wrote it: HELLO's version 2, RAM sections unaligned (u64 address, u8 encoding). */
  function asFormat2(snapshot: Uint8Array, ramType: number = Section.RAM): Uint8Array {
    return joinSections(
      sectionsOf(snapshot).map((s) => {
        if (s.type === Section.HELLO) {
          const hello = Uint8Array.from(s.payload);
          new DataView(hello.buffer).setUint16(8, 2, true); // after the 8-byte magic
          return { type: s.type, payload: hello };
        }
        if (s.type !== Section.RAM_ALIGNED) return s;
        const pages = decodeRam(s.payload);
        const out = new Uint8Array(4 + pages.length * 9 + pages.filter((p) => p.data).length * 4096);
        const view = new DataView(out.buffer);
        view.setUint32(0, pages.length, true);
        let at = 4;
        for (const page of pages) {
          view.setUint32(at, page.gpa % 2 ** 32, true);
          view.setUint32(at + 4, Math.floor(page.gpa / 2 ** 32), true);
          out[at + 8] = page.data ? 1 : 0;
          at += 9;
          if (page.data) {
            out.set(page.data, at);
            at += 4096;
          }
        }
        return { type: ramType as typeof Section.RAM, payload: out };
      }),
    );
  }

  it('a format-2 snapshot (unaligned RAM sections) still loads, byte for byte the same machine', () => {
    const { snapshot, machine } = pausedMachine();
    const old = asFormat2(snapshot);
    expect(sectionsOf(old).some((s) => s.type === Section.RAM)).toBe(true);
    const loaded = newMachine();
    loadSnapshot(loaded, old);
    expect(fingerprint(loaded)).toBe(fingerprint(machine));
  });

  it('refuses a RAM section of the other format in a stream (format 3 HELLO with format 2 RAM, and the reverse)', () => {
    const { snapshot } = pausedMachine();
    const mixed = joinSections(sectionsOf(asFormat2(snapshot)).map((s) => (s.type === Section.HELLO ? sectionsOf(snapshot)[0]! : s)));
    expect(() => loadSnapshot(newMachine(), mixed)).toThrow(/RAM section type 0x2 in a stream of another format version/);
    const reverse = joinSections(sectionsOf(snapshot).map((s) => (s.type === Section.HELLO ? sectionsOf(asFormat2(snapshot))[0]! : s)));
    expect(() => loadSnapshot(newMachine(), reverse)).toThrow(/RAM section type 0xa in a stream of another format version/);
  });
});
