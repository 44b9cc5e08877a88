/**
 * gdb sees the SIMD&FP registers through the org.gnu.gdb.aarch64.fpu feature: Debian's
 * gdb-multiarch (GDB 13) reads and writes v0..v31, fpsr and fpcr over the stub.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GdbServer } from '../../src/node/gdb/gdb-server.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { gdbMultiarchAvailable, gdbTagsMachine, runGdb } from '../support/debugger.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

describe.skipIf(!gdbMultiarchAvailable())('gdb-multiarch and the SIMD&FP registers', () => {
  it('info registers vector, p $v1.b.u, set $v2.d.u[1], fpsr/fpcr', async () => {
    const machine = gdbTagsMachine();
    for (let b = 0; b < 16; b++) machine.vcpu.cpu.vb[16 + b] = b + 1;
    machine.vcpu.cpu.fpsr = 0x08000001;
    const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
    machine.pause();
    const run = runToCompletion(machine, { maxInsns: 100_000_000 });
    cleanup.push(async () => {
      machine.terminate('gdb');
      await run;
      await server.close();
    });
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const gdb = await runGdb(port, ['info registers vector', 'p $v1.b.u', 'set $v2.d.u[1] = 0x1122334455667788', 'p/x $v2.q.u', 'p/x $fpsr', 'set $fpcr = 0xffffffff', 'p/x $fpcr', 'p $d1', 'p $q1']);
    const out = gdb.stdout;
    expect(out).toMatch(/^v31\s+\{d = \{f = /m);
    expect(out).toContain('{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}');
    expect(out).toContain('{0x11223344556677880000000000000000}');
    expect(out).toContain('0x8000001');
    expect(out).toContain('0x7c00000'); // only the FPCR bits the CPU keeps
    expect(machine.vcpu.cpu.vb[2 * 16 + 15]).toBe(0x11);
  });
});
