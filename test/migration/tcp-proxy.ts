/**
 * A TCP proxy between a migration source and its destination, for tests of what a bad link does:
 * it forwards both ways and lets the test cut or stall one direction at a byte count.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyFaults {
  /** Destination-to-source: forward this many bytes, then cut both connections at the next byte. */
  readonly cutRepliesAfter?: number;
  /** Destination-to-source: forward every reply before the first section of this type, then cut both connections. */
  readonly cutAtReply?: number;
  /** Source-to-destination: forward this many bytes, then stop forwarding and stop reading (the link stalls). */
  readonly stallAfter?: number;
}

export class TcpProxy {
  private readonly sockets: Socket[] = [];
  forwarded = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, faults: ProxyFaults): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const proxy = new TcpProxy(server, typeof address === 'object' && address ? address.port : 0);
    server.on('connection', (client) => {
      const upstream = connect({ host: '127.0.0.1', port: targetPort });
      proxy.sockets.push(client, upstream);
      for (const s of [client, upstream]) s.on('error', () => {});
      let replies = 0;
      const cutAt = faults.cutAtReply !== undefined ? replyCut(faults.cutAtReply) : null;
      upstream.on('data', (chunk: Buffer) => {
        const limit = faults.cutRepliesAfter ?? cutAt?.(chunk);
        if (limit !== undefined && replies + chunk.length > limit) {
          client.write(chunk.subarray(0, Math.max(0, limit - replies)));
          client.destroy();
          upstream.destroy();
          return;
        }
        replies += chunk.length;
        client.write(chunk);
      });
      client.on('data', (chunk: Buffer) => {
        const limit = faults.stallAfter;
        if (limit !== undefined && proxy.forwarded + chunk.length > limit) {
          upstream.write(chunk.subarray(0, Math.max(0, limit - proxy.forwarded)));
          proxy.forwarded = limit;
          client.pause(); // nothing more is read: the source's writes back up, as on a dead link
          return;
        }
        proxy.forwarded += chunk.length;
        upstream.write(chunk);
      });
      client.on('close', () => upstream.end());
      upstream.on('close', () => client.end());
    });
    return proxy;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

/** Where in the reply stream the first section of `type` starts (section framing: 8-byte header, payload, 4-byte checksum). */
function replyCut(type: number): (chunk: Buffer) => number | undefined {
  let seen = Buffer.alloc(0);
  return (chunk) => {
    seen = Buffer.concat([seen, chunk]);
    for (let at = 0; at + 8 <= seen.length; at += 12 + seen.readUInt32LE(at + 4)) {
      if (seen[at] === type) return at;
    }
    return undefined;
  };
}
