/**
 * Fuzz target: gdb remote-protocol bytes, in process (a GdbSession fed bytes), from valid packets
 * mutated with their checksums repaired half the time (docs/fuzzing.md). The stub must never log
 * an internal error, and everything it sends must be well framed: acks, or $payload#checksum.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { encodePacket, GdbSession } from '../../src/vmm/debug/gdb/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, type FuzzTarget } from './harness.js';

const demo = readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf'));
const packets = [
  'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+',
  '?', 'g', 'p20', 'P0=1122334455667788', 'm40080000,40', 'M40100000,4:00112233', 'X40100000,4:abcd',
  'qXfer:features:read:target.xml:0,fff', 'qMemTags:40100000,20:1', 'QMemTags:40100000,20:1:0505',
  'Z0,40080004,4', 'z0,40080004,4', 'Z2,40100000,8', 'vCont?', 'vCont;s:1', 'qfThreadInfo', 'Hg1', 'qC',
  'qRcmd,68656c70', 'vFile:open:2f70726f632f73656c662f6d617073,0,0', 'QStartNoAckMode', 'qAttached', 'T1', 'vMustReplyEmpty',
];
const seeds = packets.map((p) => Uint8Array.of(...encodePacket(p), 0x2b));

/** Rewrites the checksum of every $...# packet it finds (so mutants reach the packet handlers). */
function fixChecksums(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let start = out.indexOf(0x24); start >= 0; start = out.indexOf(0x24, start + 1)) {
    const hash = out.indexOf(0x23, start + 1);
    if (hash < 0 || hash + 2 >= out.length) break;
    let sum = 0;
    for (let i = start + 1; i < hash; i++) sum = (sum + out[i]!) & 0xff;
    const hex = sum.toString(16).padStart(2, '0');
    out[hash + 1] = hex.charCodeAt(0);
    out[hash + 2] = hex.charCodeAt(1);
  }
  return out;
}

/** What the stub sent must be acks (+ -) and complete, correctly summed packets. */
function checkFraming(text: string): void {
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '+' || c === '-') {
      i++;
      continue;
    }
    if (c !== '$' && c !== '%') throw new Error(`stray byte ${JSON.stringify(c)} in the stub's output`);
    const hash = text.indexOf('#', i);
    if (hash < 0 || hash + 3 > text.length) throw new Error('an incomplete packet from the stub');
    let sum = 0;
    for (let k = i + 1; k < hash; k++) sum = (sum + text.charCodeAt(k)) & 0xff;
    if (text.slice(hash + 1, hash + 3) !== sum.toString(16).padStart(2, '0')) throw new Error('a bad checksum from the stub');
    i = hash + 3;
  }
}

class Fixture {
  readonly machine = new VirtMachine({ memoryBytes: 16 * 2 ** 20 });
  readonly internalErrors: string[] = [];
  output = '';
  closed = false;
  readonly session: GdbSession;

  constructor() {
    this.machine.loadElf(demo);
    this.session = new GdbSession(Debugger.of(this.machine), {
      write: (bytes) => void (this.output += Buffer.from(bytes).toString('latin1')),
      end: () => void (this.closed = true),
    }, { log: (line) => void (/internal error/.test(line) && this.internalErrors.push(line)) });
  }
}

let fixture = new Fixture();

export const rspTarget: FuzzTarget<Uint8Array> = {
  name: 'rsp-packets',
  input: mutatedSeeds(seeds, fixChecksums),
  run(bytes) {
    if (fixture.closed || fixture.session.isClosed || fixture.machine.state !== 'paused') fixture = new Fixture();
    fixture.output = '';
    fixture.session.receive(bytes);
    if (fixture.internalErrors.length > 0) throw new Error(fixture.internalErrors[0]);
    checkFraming(fixture.output);
    return /^\+?\$E|-|\$#00/.test(fixture.output) || fixture.output === '' ? 'refused' : 'accepted';
  },
  show: (bytes) => JSON.stringify(Buffer.from(bytes).toString('latin1')),
};

describe('fuzzing gdb remote-protocol packets', () => {
  it('well-framed replies, no internal error, no hang', async () => {
    const report = await fuzz(rspTarget, fuzzOptions(3000));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
