/**
 * A protected VM's vCPU through every front end, end to end (docs/protected-vm.md): without the
 * debug permission gdb-multiarch, the monitor socket and the live viewer's WebSocket get no
 * register, no page-table walk and no execution control (a private value does not leak through
 * a load the debugger steps); with --protected=debug the same accesses work and are audited.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GdbServer } from '../../src/node/gdb/gdb-server.js';
import { MonitorServer } from '../../src/node/monitor/monitor-server.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import { WebServer } from '../../src/node/web/web-server.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { Monitor } from '../../src/vmm/monitor/monitor.js';
import { FakeGdb, GDB_TAGS_ELF, gdbMultiarchAvailable, RawClient, runGdb } from '../support/debugger.js';

/**
 * A private value the tests try to extract, and where it lives: a page the guest never shares,
 * outside every section of its ELF (where the target refuses a read, gdb falls back to the ELF
 * file's sections, which would show the runtime's NOBITS RAM section as zeros).
 */
const SECRET = 0x5ec2_e75e_c2e7_0042n;
const SECRET_AT = 0x4080_0800;
/** LDR x5, [x0]: the load a debugger would step to read private memory into a register. */
const LDR_X5_X0 = Uint8Array.of(0x05, 0x00, 0x40, 0xf9);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * gdb-tags as a protected VM, paused at its entry, whose first instruction the test (not the VMM)
 * replaced with LDR x5, [x0], and with SECRET in private memory; run by the CLI's run loop.
 */
async function protectedMachine(debug: boolean) {
  const machine = new VirtMachine({ memoryBytes: 256 * 2 ** 20, mte: true, protected: { debug } });
  machine.loadElf(await readFile(GDB_TAGS_ELF));
  const entry = Number(machine.image!.entry);
  const poke = (pa: number, bytes: Uint8Array) => {
    const region = machine.vm.memory.space.findRam(pa)!;
    region.bytes.set(bytes, pa - region.base);
  };
  poke(entry, LDR_X5_X0);
  const secret = new Uint8Array(8);
  new DataView(secret.buffer).setBigUint64(0, SECRET, true);
  poke(SECRET_AT, secret);
  const audit: string[] = [];
  machine.events.on('audit', (line) => audit.push(line));
  machine.pause();
  const run = runToCompletion(machine, { maxInsns: 50_000_000 });
  cleanup.push(async () => {
    machine.terminate('monitor');
    await run;
  });
  return { machine, entry, audit };
}

const hexSecret = SECRET.toString(16);

describe.skipIf(!gdbMultiarchAvailable())('gdb-multiarch against a protected VM', () => {
  it('without the debug permission: no memory, no registers, no step, no breakpoint, no /proc/1/maps', async () => {
    const { machine, entry } = await protectedMachine(false);
    const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close());
    const dir = await mkdtemp(join(tmpdir(), 'tagvisor-protected-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const gdb = await runGdb(port, [
      `x/2xg 0x${SECRET_AT.toString(16)}`,
      `set $x0 = 0x${SECRET_AT.toString(16)}`,
      `set $pc = 0x${entry.toString(16)}`,
      'stepi',
      'p/x $x5',
      'info registers pc',
      'break *0x40000000',
      'continue',
      `remote get /proc/1/maps ${join(dir, 'maps')}`,
      'detach',
    ]);
    const all = gdb.stdout + gdb.stderr;
    expect(all).not.toContain(hexSecret);
    // The stub sends every register as unavailable: gdb cannot even find the pc, so it gives up.
    expect(all).toContain('PC register is not available');
    expect(all).toMatch(/Cannot access memory at address 0x40800800/);
    expect(existsSync(join(dir, 'maps'))).toBe(false);
    expect(machine.vcpu.getX(5)).not.toBe(SECRET); // the load never ran
    expect(machine.vcpu.getX(0)).not.toBe(BigInt(SECRET_AT));
  });

  it('with --protected=debug the same session works, and every access is audited', async () => {
    const { machine, entry, audit } = await protectedMachine(true);
    const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close());
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const gdb = await runGdb(port, [`set $x0 = 0x${SECRET_AT.toString(16)}`, `set $pc = 0x${entry.toString(16)}`, 'stepi', 'p/x $x5', 'detach']);
    expect(gdb.stdout).toContain(`= 0x${hexSecret}`);
    expect(audit).toContain('debug read of all registers');
    expect(audit).toContain('debug write of register x0');
    expect(audit).toContain('debug single step');
  });
});

describe('the gdb stub and a protected VM, packet by packet (what gdb would send after attaching)', () => {
  it('without the debug permission every register, step, breakpoint and mapping packet is refused', async () => {
    const { machine } = await protectedMachine(false);
    const gdb = new FakeGdb(machine);
    const registers = gdb.ask('g');
    expect(registers).toMatch(/^x+$/);
    const at = SECRET_AT.toString(16);
    for (const packet of ['p0', `P0=${'00'.repeat(8)}`, `G${'00'.repeat(registers.length / 2)}`, 's', 'vCont;s:p1.1', `c${at}`, 'Z0,40000000,4', 'Z1,40000000,4', `Z2,${at},8`, `m${at},8`, `qMemTags:${at},10:1`, `qIsAddressTagged:${at}`]) {
      expect(gdb.ask(packet), packet).toBe('E0d');
    }
    expect(gdb.ask(`vFile:open:${Buffer.from('/proc/1/maps').toString('hex')},0,0`)).toBe('F-1,d');
    expect(gdb.ask('qThreadExtraInfo,p1.1')).toBe(Buffer.from('vCPU 0').toString('hex'));
    expect(machine.instructions).toBe(0);
    expect(machine.vcpu.getX(0)).toBe(0n);
  });
});

describe('the monitor socket and a protected VM', () => {
  async function monitorOf(machine: VirtMachine) {
    const monitor = new Monitor(machine);
    const server = await MonitorServer.listen(monitor, { kind: 'tcp', host: '127.0.0.1', port: 0 });
    cleanup.push(async () => {
      await server.close();
      monitor.dispose();
    });
    const client = await RawClient.open(server.address.kind === 'tcp' ? server.address.port : 0);
    cleanup.push(() => client.close());
    let next = 1;
    const ask = async (execute: string, args?: Record<string, unknown>) => {
      const id = next++;
      client.write(`${JSON.stringify({ execute, id, ...(args ? { arguments: args } : {}) })}\n`);
      await client.until((r) => r.includes(`"id":${id}}`) || r.includes(`"id":${id},`));
      const line = client.received.split('\n').find((l) => l.includes(`"id":${id}`))!;
      return JSON.parse(line) as { return?: Record<string, unknown> | Record<string, unknown>[]; error?: { class: string; desc: string } };
    };
    await ask('qmp_capabilities');
    const events = (name: string) => client.received.split('\n').filter((l) => l.includes(`"event":"${name}"`)).map((l) => JSON.parse(l) as { data: unknown });
    return { ask, events };
  }

  it('without the debug permission: query-cpus, step, virtual reads and the MTE registers are refused; faults carry no details', async () => {
    const { machine } = await protectedMachine(false);
    const { ask, events } = await monitorOf(machine);
    expect((await ask('query-cpus')).error).toMatchObject({ class: 'AccessDenied' });
    expect((await ask('step')).error).toMatchObject({ class: 'AccessDenied' });
    expect((await ask('read-memory', { addr: SECRET_AT, size: 8, space: 'virtual' })).error).toMatchObject({ class: 'AccessDenied' });
    expect((await ask('read-memory', { addr: SECRET_AT, size: 8, space: 'physical' })).error).toMatchObject({ class: 'AccessDenied' });
    const mte = (await ask('query-mte')).return as Record<string, unknown>;
    expect(mte).not.toHaveProperty('rgsr');
    expect(mte).not.toHaveProperty('el1');
    expect(mte).toHaveProperty('faults');
    expect(machine.instructions).toBe(0);
    const info = { pcLo: 0x1234, pcHi: 0, addrLo: SECRET_AT, addrHi: 0, logicalTag: 1, allocationTag: 2, size: 8, write: false, sync: true, el: 1 };
    machine.events.emit('tag-check-fault', info);
    expect((await ask('query-status')).return).toMatchObject({ status: 'paused' });
    expect(events('TAG_CHECK_FAULT').map((e) => e.data)).toEqual([{ sync: true, hidden: true }]);
  });

  it('with --protected=debug: query-cpus works and is audited', async () => {
    const { machine, audit } = await protectedMachine(true);
    const { ask } = await monitorOf(machine);
    const cpus = (await ask('query-cpus')).return as { registers: Record<string, string> }[];
    expect(cpus[0]!.registers).toHaveProperty('x0');
    expect(audit).toContain('debug read of all registers');
  });
});


describe('the live viewer and a protected VM', () => {
  /** A viewer server with stand-in page files (the WebSocket is what is tested), and a client. */
  async function viewer(machine: VirtMachine) {
    const assets = await mkdtemp(join(tmpdir(), 'tagvisor-assets-'));
    cleanup.push(() => rm(assets, { recursive: true, force: true }));
    for (const file of ['live.html', 'live.js', 'style.css']) await writeFile(join(assets, file), '');
    const monitor = new Monitor(machine);
    const web = await WebServer.listen(monitor, { kind: 'tcp', host: '127.0.0.1', port: 0 }, { name: 'gdb-tags.elf', control: true, assets });
    cleanup.push(async () => {
      await web.close();
      monitor.dispose();
    });
    const ws = new WebSocket(`ws://127.0.0.1:${web.address.port}/ws`);
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    cleanup.push(() => ws.close());
    let next = 1;
    const command = async (message: Record<string, unknown>) => {
      const id = next++;
      ws.send(JSON.stringify({ ...message, id }));
      const deadline = Date.now() + 10_000;
      for (;;) {
        const reply = messages.find((m) => m.type === 'reply' && m.id === id);
        if (reply) return reply;
        if (Date.now() > deadline) throw new Error(`no reply to ${JSON.stringify(message)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { messages, command };
  }

  it('without the debug permission: no register view, query-cpus and step refused, even with --web-control', async () => {
    const { machine } = await protectedMachine(false);
    const { messages, command } = await viewer(machine);
    expect(await command({ type: 'execute', execute: 'query-cpus' })).toMatchObject({ ok: false, error: { class: 'AccessDenied' } });
    expect(await command({ type: 'step' })).toMatchObject({ ok: false, error: { class: 'AccessDenied' } });
    expect(await command({ type: 'execute', execute: 'query-status' })).toMatchObject({ ok: true });
    expect(messages.filter((m) => m.type === 'cpu')).toEqual([]);
    expect(messages.find((m) => m.type === 'warning')).toMatchObject({ message: expect.stringContaining('no registers') as unknown });
    expect(JSON.stringify(messages)).not.toContain(hexSecret);
  });

  it('with --protected=debug the register view is there, audited', async () => {
    const { machine, audit } = await protectedMachine(true);
    const { messages, command } = await viewer(machine);
    expect(await command({ type: 'execute', execute: 'query-cpus' })).toMatchObject({ ok: true });
    const deadline = Date.now() + 10_000;
    while (!messages.some((m) => m.type === 'cpu') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(messages.some((m) => m.type === 'cpu')).toBe(true);
    expect(audit).toContain('debug read of the registers (live viewer)');
  });
});
