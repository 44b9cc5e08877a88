import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenForMigration } from '../../src/node/migration/incoming.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { listening, start } from './cli-support.js';

const GIB = 2 ** 30;

describe('a migration destination listens before it prefaults its RAM', () => {
  it('the port is bound before any RAM is touched, and prefaulting stops when the source connects', async () => {
    const machine = new VirtMachine({ memoryBytes: GIB, mte: true });
    const listener = listenForMigration(machine, '127.0.0.1', 0);
    let prefaultDone = false;
    void listener.prefaulted.then(() => (prefaultDone = true));
    const port = await listener.ready;
    expect(prefaultDone).toBe(false);
    // Connect at once, as the README's commands run one after another do.
    const socket = connect({ host: '127.0.0.1', port });
    const channel = await listener.accepted;
    const prefaulted = await listener.prefaulted;
    expect(prefaulted).toBeLessThan(GIB);
    channel.close();
    socket.destroy();
  });

  it('with nobody connecting, all of RAM is prefaulted', async () => {
    const machine = new VirtMachine({ memoryBytes: 64 * 2 ** 20, mte: true });
    const listener = listenForMigration(machine, '127.0.0.1', 0);
    await listener.ready;
    expect(await listener.prefaulted).toBe(64 * 2 ** 20);
    const socket = connect({ host: '127.0.0.1', port: await listener.ready });
    (await listener.accepted).close();
    socket.destroy();
  });

  it('tagvisor run --incoming with 1 GiB accepts a connection while it prefaults (dist/)', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '1G');
    try {
      const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
    } finally {
      destination.child.kill();
      await destination.exit;
    }
  });
});
