import { lstat, rm } from 'node:fs/promises';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { ListenAddress } from './listen-address.js';

/** Starts listening; resolves with the bound address (the real port when 0 was asked for). */
export async function listenOn(server: Server, address: ListenAddress): Promise<ListenAddress> {
  // A stale socket from an earlier run is replaced (as QEMU does); any other file is left alone.
  if (address.kind === 'unix' && (await lstat(address.path).catch(() => null))?.isSocket()) await rm(address.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
  if (address.kind === 'unix') return address;
  const info = server.address() as AddressInfo;
  return { kind: 'tcp', host: address.host, port: info.port };
}

/** Stops accepting and waits (at most `graceMs`) for the given sockets to finish writing. */
export async function closeServer(server: Server, sockets: Socket[], graceMs = 2000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const timer = setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
