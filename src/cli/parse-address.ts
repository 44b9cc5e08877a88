import { InvalidArgumentError } from 'commander';
import { ListenAddressError, parseListenAddress, type ListenAddress } from '../node/listen-address.js';

/** --gdb tcp:<host>:<port> */
export function parseGdbAddress(text: string): ListenAddress {
  return parse(text, false);
}

/** --web tcp:<host>:<port> (the live viewer, docs/web.md) */
export function parseWebAddress(text: string): ListenAddress {
  return parse(text, false);
}

/** --monitor tcp:<host>:<port> | unix:<path> */
export function parseMonitorAddress(text: string): ListenAddress {
  return parse(text, true);
}

function parse(text: string, allowUnix: boolean): ListenAddress {
  try {
    return parseListenAddress(text, allowUnix);
  } catch (error) {
    if (error instanceof ListenAddressError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}
