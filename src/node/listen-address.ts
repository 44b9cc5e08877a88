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

export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
