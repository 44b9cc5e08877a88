import type { HostCommand, HostMessage, HostMessageOf, HostMessageType } from './protocol.js';

export type ConnectionEvents = { [K in HostMessageType]: HostMessageOf<K> };
export type ConnectionListener<K extends HostMessageType> = (message: HostMessageOf<K>) => void;

/**
 * What the viewer UI (terminal, tag map, fault list, register view, controls) talks to: a
 * machine somewhere that accepts HostCommands and reports HostMessages (protocol.ts).
 *
 * The playground's connection is a Web Worker running the machine (worker-connection.ts). The
 * live viewer of a VM running in Node (`tagvisor run --web`) will be a WebSocket carrying the
 * same messages, built from the monitor's events; it cannot load guests (`canLoad` false).
 */
export interface MachineConnection {
  readonly canLoad: boolean;
  send(command: HostCommand): void;
  on<K extends HostMessageType>(type: K, listener: ConnectionListener<K>): () => void;
  close(): void;
}

/** Listener bookkeeping shared by connections: a throwing listener does not stop the others. */
export class MessageHub {
  private readonly listeners = new Map<HostMessageType, Set<(message: never) => void>>();

  on<K extends HostMessageType>(type: K, listener: ConnectionListener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as (message: never) => void);
    return () => set.delete(listener as (message: never) => void);
  }

  dispatch(message: HostMessage): void {
    for (const listener of [...(this.listeners.get(message.type) ?? [])]) {
      try {
        (listener as (message: HostMessage) => void)(message);
      } catch (error) {
        console.error(`viewer: ${message.type} listener failed`, error);
      }
    }
  }
}
