import { chmod, lstat, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { ListenAddress } from './listen-address.js';

/** Starts listening; resolves with the bound address (the real port when 0 was asked for). */
export async function listenOn(server: Server, address: ListenAddress): Promise<ListenAddress> {
  if (address.kind === 'unix') await removeStaleSocket(address.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') listenOwnerOnly(server, address.path, done);
    else server.listen(address.port, address.host, done);
  });
  if (address.kind === 'unix') {
    await chmod(address.path, 0o600); // in case the umask trick below did not apply (another platform)
    return address;
  }
  const info = server.address() as AddressInfo;
  return { kind: 'tcp', host: address.host, port: info.port };
}

/**
 * A unix socket only its owner may connect to (0600): whoever connects controls the VM
 * (docs/monitor-api.md). The socket is created under a umask that leaves no group or other bits,
 * so there is no moment when another user could connect; bind happens inside `listen`.
 */
function listenOwnerOnly(server: Server, path: string, done: () => void): void {
  const previous = process.umask(0o177);
  try {
    server.listen(path, done);
  } finally {
    process.umask(previous);
  }
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

/**
 * A unix socket path left by an earlier run that did not clean up (nobody listens on it) is
 * replaced; a socket another process listens on, or a file that is not a socket, is refused.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => null);
  if (!stat) return;
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket (it is left alone)`);
  if (await someoneListens(path)) throw Object.assign(new Error(`${path} is in use`), { code: 'EADDRINUSE' });
  await rm(path, { force: true });
}

function someoneListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (listening: boolean): void => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(1000, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
