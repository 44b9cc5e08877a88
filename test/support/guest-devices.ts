/**
 * Devices a guest needs, by name (guests/devices.sh is the one definition): fresh disk images in
 * a temporary directory, the QEMU options that attach them, and the same drives for Tagvisor.
 * Guests named *-bounce run Tagvisor with `--dma bounce`; virtio-console guests get the same
 * input file QEMU reads and write their output where QEMU's chardev does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DmaMode } from '../../src/vmm/dma-path.js';

const GUESTS_DIR = join(import.meta.dirname, '../../guests');

export interface GuestDevices {
  readonly dir: string;
  readonly qemuArgs: string[];
  readonly drives: string[];
  /** virtio-console: the host's input file and where the guest's output goes (QEMU's chardev). */
  readonly console?: { readonly input: string; readonly output: string };
  readonly dma: DmaMode;
  dispose(): void;
}

/** Creates the guest's disks (if any) in a new temporary directory. */
export function guestDevices(guest: string): GuestDevices {
  const dir = mkdtempSync(join(tmpdir(), `tagvisor-${guest}-`));
  const r = spawnSync('sh', [join(GUESTS_DIR, 'devices.sh'), guest, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`devices.sh ${guest} failed: ${r.stderr}`);
  const qemuArgs = r.stdout.trim() === '' ? [] : r.stdout.trim().split(/\s+/);
  const drives: string[] = [];
  for (let i = 0; i < qemuArgs.length - 1; i++) {
    if (qemuArgs[i] !== '-drive') continue;
    const opts = Object.fromEntries(qemuArgs[i + 1]!.split(',').map((kv) => kv.split('=') as [string, string]));
    const device = qemuArgs.slice(i + 2).find((a) => a.includes(`drive=${opts.id}`)) ?? '';
    const serial = /serial=([^,]+)/.exec(device)?.[1];
    drives.push([`file=${opts.file}`, ...(opts.readonly === 'on' ? ['readonly=on'] : []), ...(serial ? [`serial=${serial}`] : [])].join(','));
  }
  const chardev = qemuArgs.find((a) => a.startsWith('file,id=vc0,'));
  const path = chardev && /,path=([^,]+)/.exec(chardev)?.[1];
  const input = chardev && /,input-path=([^,]+)/.exec(chardev)?.[1];
  const console = path && input ? { input, output: path } : undefined;
  return { dir, qemuArgs, drives, ...(console ? { console } : {}), dma: guest.endsWith('-bounce') ? 'bounce' : 'direct', dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
