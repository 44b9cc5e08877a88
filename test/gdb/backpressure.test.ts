/**
 * A gdb client that sends packets without reading the replies (found by fuzzing: 10,000 `m`
 * packets took the process from 64 to 253 MiB): the stub queues at most its bound of output,
 * keeps the rest of the client's packets in the socket, answers them all once the client reads,
 * and releases everything when the client goes.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GDB_OUTPUT_BOUND, GdbServer } from '../../src/node/gdb/gdb-server.js';
import { encodePacket } from '../../src/vmm/debug/gdb/packet-codec.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { eventually, gdbTagsMachine } from '../support/debugger.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('gdb stub backpressure', () => {
  it('10,000 m packets from a client that does not read queue at most the bound; all are answered once it reads', async () => {
    const machine = gdbTagsMachine();
    const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close());
    const socket = connect(server.address.kind === 'tcp' ? server.address.port : 0, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    cleanup.push(() => void socket.destroy());
    socket.pause();
    const one = Buffer.from(encodePacket('m40000000,400')); // 1 KiB: a 2 KiB reply
    socket.write(Buffer.concat(Array.from({ length: 10_000 }, () => one)));
    let peak = 0;
    for (let i = 0; i < 40; i++) {
      peak = Math.max(peak, server.queuedBytes().output);
      expect(server.queuedBytes().input).toBeLessThanOrEqual(256 * 1024);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(peak).toBeGreaterThan(GDB_OUTPUT_BOUND / 2);
    expect(peak).toBeLessThanOrEqual(GDB_OUTPUT_BOUND + 4096);
    // It reads now: 10,000 replies of 2 KiB hex each.
    let replies = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x23) replies++; // one '#' per reply (hex data has none)
    });
    socket.resume();
    await eventually(() => replies === 10_000, 60_000);
    expect(server.queuedBytes()).toEqual({ output: 0, input: 0 });
  }, 90_000);

  it('a client that goes away without reading leaves nothing queued', async () => {
    const machine = gdbTagsMachine();
    const server = await GdbServer.listen(Debugger.of(machine), { kind: 'tcp', host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close());
    const socket = connect(server.address.kind === 'tcp' ? server.address.port : 0, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write(Buffer.concat(Array.from({ length: 2000 }, () => Buffer.from(encodePacket('m40000000,2000')))));
    await eventually(() => server.queuedBytes().output > GDB_OUTPUT_BOUND / 2);
    socket.destroy();
    await eventually(() => server.queuedBytes().output === 0 && server.queuedBytes().input === 0);
  });
});
