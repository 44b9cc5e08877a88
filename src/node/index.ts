/**
 * Node adapters for a Tagvisor machine (`tagvisor/node`): a run loop that keeps Node's event loop
 * served, file-backed virtio-blk disks, migration channels over TCP, and the network front ends
 * (gdb stub, JSON monitor, live web viewer) that `tagvisor run` starts.
 *
 * ```ts
 * import { VirtMachine } from 'tagvisor';
 * import { runToCompletion } from 'tagvisor/node';
 * const outcome = await runToCompletion(machine, { maxInsns: 1e9 });
 * process.exitCode = outcome.status; // the CLI's exit statuses (docs/design.md)
 * ```
 *
 * @module tagvisor/node
 */
export { EXIT_STATUS, runToCompletion, type RunOptions, type RunOutcome } from './run-guest.js';
export { DriveError, FileDisk, openDisk, parseDriveSpec, type DriveSpec } from './file-disk.js';
export { SocketChannel, connectChannel, listenOnce, type SocketChannelOptions } from './migration-tcp.js';
export { FrontEndError, FrontEnds, type FrontEndOptions } from './front-ends.js';
export { ListenAddressError, formatListenAddress, parseListenAddress, type ListenAddress } from './listen-address.js';
