import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GdbServer } from '../../src/node/gdb/gdb-server.js';
import { runToCompletion, type RunOutcome } from '../../src/node/run-guest.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { CLI, GDB_TAGS_ELF, gdbMultiarchAvailable, gdbTagsMachine, ROOT, runGdb, symbol } from '../support/debugger.js';

/**
 * The stub against the gdb users have: Debian 12's gdb-multiarch (GDB 13.1), in batch mode.
 * The machine runs in this process (paused until gdb continues it, like --wait-gdb); gdb is a
 * child process.
 */
async function served(): Promise<{ machine: VirtMachine; port: number; run: Promise<RunOutcome>; uart: () => string }> {
  const machine = gdbTagsMachine();
  let uart = '';
  machine.events.on('output', (bytes) => (uart += Buffer.from(bytes).toString('latin1')));
  const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
  machine.pause();
  const run = runToCompletion(machine, { maxInsns: 100_000_000 });
  cleanup.push(async () => {
    machine.terminate('gdb');
    await run;
    await server.close();
  });
  return { machine, port: server.address.kind === 'tcp' ? server.address.port : 0, run, uart: () => uart };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

/** gdb's set-allocation-tag splits its arguments at spaces: no space inside the expression. */
const PTR = '(char*)0x0300000040400000';

describe.skipIf(!gdbMultiarchAvailable())('gdb-multiarch (GDB 13) against the stub', () => {
  it('runs a memory-tag session: print, set, check, examine, step, continue to exit', async () => {
    const { port, run, uart } = await served();
    const gdb = await runGdb(port, [
      'break checkpoint',
      'continue',
      `memory-tag print-allocation-tag ${PTR}`,
      `memory-tag print-logical-tag ${PTR}`,
      `memory-tag check ${PTR}`,
      `memory-tag set-allocation-tag ${PTR} 16 05`,
      `memory-tag print-allocation-tag ${PTR}`,
      `memory-tag check ${PTR}`,
      `memory-tag print-allocation-tag (char *) 0x40408000`,
      `print ${PTR}`,
      `memory-tag with-logical-tag ${PTR} 05`,
      `x/4xgm ${PTR}`,
      'stepi',
      'info registers pc',
      'continue',
    ]);
    const out = gdb.stdout;
    expect(out).toMatch(new RegExp(`Breakpoint 1, 0x0*${symbol('checkpoint').toString(16)} in checkpoint \\(\\)`));
    expect(out).toContain('$1 = 0x3');
    expect(out).toContain('$2 = 0x3');
    expect(out).toContain('Memory tags for address 0x300000040400000 match (0x3).');
    expect(out).toContain('Allocation tag(s) updated successfully.');
    expect(out).toContain('$3 = 0x5');
    expect(out).toContain('Logical tag (0x3) does not match the allocation tag (0x5) for address 0x300000040400000.');
    expect(gdb.stderr).toContain('Address 0x40408000 not in a region mapped with a memory tagging flag.');
    // print of a pointer whose tag mismatches, then x with the m modifier (tags inline, via qMemTags).
    expect(out).toMatch(/Logical tag \(0x3\) does not match the allocation tag \(0x5\)\.\n\$4 = 0x300000040400000 "/);
    expect(out).toContain('$5 = (void *) 0x500000040400000');
    expect(out).toContain(
      '<Allocation Tag 0x5 for range [0x300000040400000,0x300000040400010)>\n0x300000040400000:\t0x1111111111111111\t0x2222222222222222\n' +
        '<Allocation Tag 0x3 for range [0x300000040400010,0x300000040400020)>\n0x300000040400010:\t0x3333333333333333\t0x4444444444444444\n',
    );
    expect(out).toMatch(/pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <main\+\d+>/);
    expect(out).toContain('[Inferior 1 (process 1) exited with code 05]');
    expect((await run).status).toBe(5);
    // The guest saw gdb's tag and faulted on its stale pointer.
    expect(uart()).toContain('tags after:  5333aa00\n');
    expect(uart()).toMatch(/load through tagged_ptr: ESR=96000011 FAR=0300000040400000/);
  });

  it('hardware breakpoints, watchpoints and registers', async () => {
    const { port, run } = await served();
    const watched = `0x${symbol('watched').toString(16)}`;
    const gdb = await runGdb(port, [
      'hbreak checkpoint',
      'continue',
      'delete',
      `watch *(unsigned long *) ${watched}`,
      'continue',
      'p/x $tag_ctl',
      'p/x $sctlr_el1 & 1',
      'p/x $x0 = 0x1234',
      'p/x $x0',
      'delete',
      'continue',
    ]);
    const out = gdb.stdout;
    expect(out).toMatch(/Hardware assisted breakpoint 1 at 0x[0-9a-f]+\s+Breakpoint 1, 0x[0-9a-f]+ in checkpoint/);
    expect(out).toMatch(/Hardware watchpoint 2: \*\(unsigned long \*\) 0x[0-9a-f]+\s+Old value = 0\s+New value = 23130/);
    expect(out).toContain(`$1 = 0x7fff9`);
    expect(out).toContain('$2 = 0x1');
    expect(out).toContain('$4 = 0x1234');
    expect(out).toMatch(/New value = 23130\s+0x[0-9a-f]+ in main \(\)/);
    expect(out).toContain('exited with code 03');
    expect((await run).status).toBe(3);
  });

  it('Ctrl-C (SIGINT to gdb) interrupts a running guest', async () => {
    // bench-int runs ~86M instructions; small slices keep it running long enough to be caught.
    const machine = new VirtMachine({ memoryBytes: 256 * 2 ** 20, mte: true });
    machine.loadElf(readFileSync(join(ROOT, 'guests/build/bench-int.elf')));
    const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
    machine.pause();
    const run = runToCompletion(machine, { sliceSize: 2_000 });
    cleanup.push(async () => {
      machine.terminate('gdb');
      await run;
      await server.close();
    });
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const gdb = spawn('gdb-multiarch', ['-nx', '-q', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${port}`, '-ex', 'continue', join(ROOT, 'guests/build/bench-int.elf')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => gdb.kill('SIGKILL'), 60_000);
    let out = '';
    const closed = new Promise((resolve) => gdb.on('close', resolve));
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Continuing.')) resolve();
      };
      gdb.stdout.on('data', onData);
      gdb.stderr.on('data', onData);
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(machine.state).toBe('running');
    gdb.kill('SIGINT');
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (out.includes('Program received signal SIGINT, Interrupt.')) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    expect(machine.state).toBe('paused');
    gdb.stdin.write('info registers pc\nkill\nquit\n');
    await closed;
    clearTimeout(timer);
    expect(out).toMatch(/pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <\w+\+\d+>/);
    expect(out).toContain('[Inferior 1 (process 1) killed]');
    expect((await run).why).toBe('killed from gdb');
  });

  it('detach leaves the guest running to its end', async () => {
    const { port, run } = await served();
    const gdb = await runGdb(port, ['break checkpoint', 'continue', 'detach']);
    expect(gdb.stdout).toContain('[Inferior 1 (process 1) detached]');
    expect((await run).status).toBe(3);
  });

  it("a conditional breakpoint gdb steps over on every hit leaves the run's instruction count unchanged", async () => {
    // gdb evaluates the condition itself: each false hit is a stop, then z1, a single step, Z1
    // and continue. The steps run outside the run loop's slices and must still be counted.
    const alone = await runToCompletion(gdbTagsMachine(), { maxInsns: 100_000_000 });
    const { port, run } = await served();
    const gdb = await runGdb(port, ['hbreak printf if $x0 == 0x1ff', 'continue']);
    expect(gdb.stdout).toContain('[Inferior 1 (process 1) exited with code 03]');
    const debugged = await run;
    expect(debugged.status).toBe(alone.status);
    expect(debugged.instructions).toBe(alone.instructions);
  });

  it('tagvisor run --gdb --wait-gdb: gdb kill ends the run with status 137', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--gdb', 'tcp:127.0.0.1:0', '--wait-gdb', GDB_TAGS_ELF], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /gdb stub listening on tcp:127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.on('close', () => reject(new Error(`tagvisor exited early: ${stderr}`)));
    });
    const gdb = await runGdb(port, ['break checkpoint', 'continue', 'kill']);
    const status = await exited;
    clearTimeout(timer);
    expect(gdb.stdout).toContain('[Inferior 1 (process 1) killed]');
    expect(status).toBe(137);
    expect(stdout).toBe('tags before: 3333aa00\n');
  });
});
