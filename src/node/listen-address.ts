/** Where a server listens: `tcp:<host>:<port>` or (the monitor only) `unix:<path>`. */
export type ListenAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export class ListenAddressError extends Error {
  override readonly name = 'ListenAddressError';
}

/**
 * Parses `tcp:<host>:<port>` (an empty host means loopback: 127.0.0.1; an IPv6 host goes in
 * brackets, `tcp:[::1]:1234`; port 0 picks a free port) and, when `allowUnix`, `unix:<path>`.
 * Servers bind to loopback unless the address names another host.
 */
export function parseListenAddress(text: string, allowUnix: boolean): ListenAddress {
  if (text.startsWith('unix:')) {
    if (!allowUnix) throw new ListenAddressError(`'${text}': only tcp:<host>:<port> is supported here`);
    const path = text.slice('unix:'.length);
    if (path === '' || path.includes('\0')) throw new ListenAddressError(`'${text}': expected unix:<path>`);
    return { kind: 'unix', path };
  }
  const match = /^tcp:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d{1,5})$/.exec(text);
  if (!match) throw new ListenAddressError(`'${text}': expected tcp:<host>:<port>${allowUnix ? ' or unix:<path>' : ''}`);
  const port = Number(match[2]);
  if (port > 65535) throw new ListenAddressError(`'${text}': port ${port} is out of range (0-65535)`);
  let host = match[1]!;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host === '') host = '127.0.0.1';
  return { kind: 'tcp', host, port };
}

/**
 * True for addresses only this machine can reach: a unix socket (owner-only, see servers.ts),
 * 127.0.0.0/8, ::1 and `localhost`. Anything else needs --insecure or an auth token
 * (docs/monitor-api.md, "Who may connect").
 */
export function isLoopback(address: ListenAddress): boolean {
  if (address.kind === 'unix') return true;
  const host = address.host.toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./.test(host);
}

/**
 * Why the front ends may not listen where they were told, or null. A non-loopback address lets
 * the network in: the monitor and the viewer need a token (or --insecure), the gdb stub, whose
 * protocol has no authentication, needs --insecure. Checked before anything listens.
 */
export function exposureRefusal(servers: { readonly gdb?: ListenAddress; readonly monitor?: ListenAddress; readonly web?: ListenAddress }, insecure: boolean, token: boolean): string | null {
  if (insecure) return null;
  if (servers.gdb && !isLoopback(servers.gdb)) {
    return `--gdb ${formatListenAddress(servers.gdb)} is not a loopback address and the gdb protocol has no authentication: use 127.0.0.1 (and an SSH tunnel), or add --insecure`;
  }
  for (const [option, address] of [['--monitor', servers.monitor], ['--web', servers.web]] as const) {
    if (address && !isLoopback(address) && !token) {
      return `${option} ${formatListenAddress(address)} is not a loopback address: anyone who can reach it controls the VM; add --auth-token-file <file> (or --insecure)`;
    }
  }
  return null;
}

export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
