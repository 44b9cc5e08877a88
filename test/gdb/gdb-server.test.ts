import { afterEach, describe, expect, it } from 'vitest';
import { GdbServer } from '../../src/node/gdb/gdb-server.js';
import { runToCompletion, type RunOutcome } from '../../src/node/run-guest.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { encodePacket } from '../../src/vmm/debug/gdb/packet-codec.js';
import type { VirtMachine } from '../../src/vmm/index.js';
import { eventually, gdbTagsMachine, parsePackets, RawClient, symbol } from '../support/debugger.js';

const packet = (payload: string) => Buffer.from(encodePacket(payload)).toString('latin1');

/** A machine served over TCP on a free loopback port, run in this process, paused until gdb continues it (--wait-gdb). */
async function served(): Promise<{ machine: VirtMachine; server: GdbServer; port: number; run: Promise<RunOutcome>; log: string[] }> {
  const machine = gdbTagsMachine();
  const log: string[] = [];
  const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 }, { log: (m) => log.push(m) });
  const port = server.address.kind === 'tcp' ? server.address.port : 0;
  machine.pause();
  const run = runToCompletion(machine, { maxInsns: 50_000_000, sliceSize: 10_000 });
  cleanup.push(async () => {
    machine.terminate('gdb');
    await run;
    await server.close();
  });
  return { machine, server, port, run, log };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

describe('gdb stub over TCP', () => {
  it('speaks RSP over TCP, NAKing bad checksums', async () => {
    const { port } = await served();
    const client = await RawClient.open(port);
    client.write(packet('qSupported:multiprocess+'));
    await client.until((r) => r.includes('#'));
    expect(client.received[0]).toBe('+');
    expect(parsePackets(client.received)[0]).toContain('memory-tagging+');
    client.received = '';
    client.write('$qC#00');
    await client.until((r) => r === '-');
    client.close();
  });

  it('a client that disconnects mid-packet leaves a paused machine paused; the next gdb may connect', async () => {
    const { machine, port, log } = await served();
    const first = await RawClient.open(port);
    first.write('$m40400000,1');
    first.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(machine.state).toBe('paused');
    const second = await RawClient.open(port);
    second.write(packet('?'));
    await second.until((r) => r.includes('#'));
    expect(parsePackets(second.received)).toEqual(['T05thread:p1.1;']);
    expect(log.join('\n')).not.toMatch(/internal error/);
    second.close();
  });

  it('a client that continues and then disconnects mid-packet leaves the machine running to its end', async () => {
    const { port, run } = await served();
    const client = await RawClient.open(port);
    client.write(packet(`Z0,${symbol('checkpoint').toString(16)},4`));
    await client.until((r) => parsePackets(r).includes('OK'));
    client.write(packet('c'));
    await client.until((r) => parsePackets(r).some((p) => p.startsWith('T05swbreak')));
    client.write(packet('c'));
    client.write('$qMemTags:4040');
    client.close();
    // The breakpoints went with the connection; the guest finishes as if never debugged.
    const outcome = await run;
    expect(outcome.status).toBe(3);
  });

  it('refuses a second gdb while one is connected', async () => {
    const { port, log } = await served();
    const first = await RawClient.open(port);
    const second = await RawClient.open(port);
    await eventually(() => second.closed);
    expect(log.join('\n')).toMatch(/second connection/);
    first.write(packet('qC'));
    await first.until((r) => parsePackets(r).includes('QCp1.1'));
    first.close();
  });

  it('gdb kill ends the run; the stub stops listening when closed', async () => {
    const { machine, server, port, run } = await served();
    const client = await RawClient.open(port);
    client.write(packet('vKill;1'));
    await client.until((r) => parsePackets(r).includes('OK'));
    expect((await run).why).toBe('killed from gdb');
    expect(machine.shutdown).toEqual({ kind: 'terminated', by: 'gdb' });
    await server.close();
    await expect(RawClient.open(port)).rejects.toThrow();
  });
});
