/**
 * `tagvisor migrate` when the destination's COMMITTED is lost (dist/ needed): exit 1, the source
 * paused in postmigrate with the recovery advice, the destination running (docs/migration-protocol.md §6).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { killedAfterEach, listening, ROOT, start } from './cli-support.js';
import { TcpProxy } from './tcp-proxy.js';
import { Section } from '../../src/vmm/migration/index.js';

const running = killedAfterEach();

describe('tagvisor migrate when the answer to END is lost', () => {
  it('exits 1 with the postmigrate advice; query-status says postmigrate; the destination runs', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '16M');
    running.push(destination);
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const proxy = await TcpProxy.start(port, { cutAtReply: Section.COMMITTED });
    try {
      const source = start('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '16M', '--start-paused', join(ROOT, 'guests/build/heap.elf'));
      running.push(source);
      const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
      // Asynchronously: the proxy lives in this process's event loop.
      const migrate = start('migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${proxy.port}`);
      expect(await migrate.exit).toBe(1);
      expect(migrate.stderr()).toMatch(/^tagvisor: migration failed: commit: .*; the destination may have taken over, so the source VM stays paused \(postmigrate\): if the destination runs the guest, quit the source \(monitor `quit`\); if it does not, resume the source \(monitor `cont`\)\n$/);
      const client = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: monitor });
      try {
        expect(await client.execute('query-status')).toMatchObject({ status: 'paused', 'stop-reason': 'postmigrate' });
        expect(await client.execute('query-migrate')).toMatchObject({ status: 'failed', outcome: 'postmigrate' });
      } finally {
        client.close();
      }
      expect(destination.stderr()).toMatch(/incoming migration complete, guest running/);
    } finally {
      proxy.close();
    }
  });
});
