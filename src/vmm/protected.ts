/**
 * Protected VMs (`--protected[=debug]`; docs/protected-vm.md): every RAM page is private to the
 * guest from its first instruction; the guest shares pages with the pKVM-style MEM_SHARE
 * hypercall (hyp-mem.ts) and the VMM may touch only those:
 *
 * - dma: shared pages only (devices work through the guest's bounce pool: `--dma bounce`);
 * - debug (gdb stub, monitor reads and writes): private pages only with `--protected=debug`, and
 *   then every access range is audited;
 * - migration and snapshots: private pages (and their tags) leave only inside an encrypted,
 *   authenticated stream (migration/sealing.ts); plaintext export is refused;
 * - guest-request: the bytes a guest names in its own semihosting call.
 *
 * The guest's MTE is unaffected: tags live beside the data and follow the same rules.
 */
import { ACTIVITY_DMA, allowAllPolicy, hex, ownershipPolicy, type AccessPolicy, type AccessRequest, type GuestMemory, type PageOwnership } from '../memory/index.js';

export interface ProtectedOptions {
  /** The VM allows debug access to its private memory (audited). */
  readonly debug: boolean;
  /** AES-256 key for migration streams and snapshots, given to both ends out of band. */
  readonly key?: Uint8Array;
}

export class ProtectedMode {
  readonly policy: AccessPolicy;

  constructor(
    private readonly memory: GuestMemory,
    private readonly ownership: PageOwnership,
    readonly options: ProtectedOptions,
    audit: (line: string) => void,
  ) {
    this.policy = ownershipPolicy(ownership, {
      allowDebug: options.debug,
      audit: (request) => audit(auditLine(request, ownership)),
    });
    memory.setPolicy(this.policy);
  }

  /**
   * Boots (or reboots) the VM from its image: before the first instruction the VMM may write the
   * image. RAM is scrubbed first, so nothing of the previous run survives a reset, and afterwards
   * every page is private again.
   */
  boot(loadImage: () => void): void {
    this.memory.setPolicy(allowAllPolicy);
    try {
      for (const region of this.memory.space.ramRegions) {
        region.bytes.fill(0);
        region.noteDataWrite(0, region.size, ACTIVITY_DMA); // the VMM's scrub, counted with the image load
      }
      this.ownership.unshareAll();
      loadImage();
    } finally {
      this.memory.setPolicy(this.policy);
    }
  }
}

/** One audit line per debug access to private memory: what, where, how much. */
function auditLine(request: AccessRequest, ownership: PageOwnership): string {
  const what = request.tags ? 'tags' : 'data';
  const first = ownership.firstPrivate(request.gpa, request.length);
  return `debug ${request.op} of ${what} at ${hex(request.gpa)}+${hex(request.length)} touches private memory (first private page ${hex(first)})`;
}
