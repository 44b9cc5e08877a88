import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runToCompletion } from '../../src/node/run-guest.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { createChannelPair, MigrationSource, receiveMigration, Section, sectionChecksum, type MigrationChannel } from '../../src/vmm/migration/index.js';

const GUEST = readFileSync(join(import.meta.dirname, '../../guests/build/heap.elf'));
const EXPECTED = readFileSync(join(import.meta.dirname, '../../guests/expected/heap.out'), 'latin1');
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const OTHER_KEY = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const SECRET_PAGE = 0x4200_0000;
const SECRET = new TextEncoder().encode('TAGVISOR-SECRET-PATTERN-0123456789abcdefghijklmnopqrstuvwxyz!!!');

type Transform = (section: Uint8Array, index: number) => Uint8Array[];

/** Wraps the source's end: every send is one section; `transform` may drop, duplicate or rewrite it. */
function intercept(channel: MigrationChannel, transform: Transform, captured: Uint8Array[]): MigrationChannel {
  let index = 0;
  return {
    async send(bytes) {
      for (const out of transform(bytes, index++)) {
        captured.push(out.slice());
        await channel.send(out);
      }
    },
    receive: () => channel.receive(),
    close: () => channel.close(),
  };
}

/** Rewrites a section's payload bytes and fixes its checksum, as an attacker on the wire could. */
function forge(section: Uint8Array, edit: (payload: Uint8Array) => void): Uint8Array {
  const copy = section.slice();
  edit(copy.subarray(8, copy.length - 4));
  new DataView(copy.buffer).setUint32(copy.length - 4, sectionChecksum(copy[0]!, copy.subarray(0, copy.length - 4)), true);
  return copy;
}

interface Run {
  migrated: boolean;
  out: string;
  sourceError?: string | undefined;
  targetError?: string | undefined;
  stream: Uint8Array;
}

async function migrate(options: { protected: boolean; paused?: boolean; targetKey?: Uint8Array | null; targetProtected?: boolean; transform?: Transform; at?: number }): Promise<Run> {
  const make = (isProtected: boolean, key: Uint8Array | null) =>
    new VirtMachine({ memoryBytes: 64 * 2 ** 20, ...(isProtected ? { protected: { debug: false, ...(key ? { key } : {}) } } : {}) });
  const source = make(options.protected, KEY);
  const target = make(options.targetProtected ?? options.protected, options.targetKey === undefined ? KEY : options.targetKey);
  const out: Uint8Array[] = [];
  source.events.on('output', (b) => out.push(b.slice()));
  target.events.on('output', (b) => out.push(b.slice()));
  source.loadElf(GUEST);
  // A secret in guest memory (private in a protected VM): it must never appear on the wire.
  const page = new Uint8Array(4096);
  page.set(SECRET, 100);
  source.vm.memory.sealedMigration.writePage(SECRET_PAGE, page);
  source.runSlice(options.at ?? 20_000);
  const [a, b] = createChannelPair();
  const captured: Uint8Array[] = [];
  const wire = intercept(a, options.transform ?? ((s) => [s]), captured);
  // paused: the source does not run while it migrates. heap.elf is short, and a guest that ends
  // during a migration is (rightly) not committed, which a slow machine made happen to runs
  // expected to commit. Failing runs keep the source running: it must resume and finish.
  if (options.paused) source.pause();
  const running = options.paused ? Promise.resolve() : runToCompletion(source, { sliceSize: 2_000 });
  const progress = new MigrationSource(source, wire, { key: KEY }).run();
  let targetError: string | undefined;
  const key = options.targetKey === undefined ? KEY : options.targetKey;
  const received = receiveMigration(target, b, key ? { key } : {}).then(
    () => true,
    (error: Error) => {
      targetError = error.message;
      return false;
    },
  );
  const [, p, migrated] = await Promise.all([running, progress, received]);
  if (migrated) await runToCompletion(target);
  return { migrated, out: Buffer.concat(out).toString('latin1'), sourceError: p.error, targetError, stream: Buffer.concat(captured) };
}

const contains = (haystack: Uint8Array, needle: Uint8Array) => Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length).includes(Buffer.from(needle));
const sealedIndex = (section: Uint8Array) => section[0] === Section.SEALED;

describe('a protected VM migrates encrypted, with its tags', () => {
  it('the guest cannot tell, and no plaintext of its memory is on the wire', async () => {
    const run = await migrate({ protected: true, paused: true });
    expect(run.sourceError).toBeUndefined();
    expect(run.migrated).toBe(true);
    expect(run.out).toBe(EXPECTED);
    expect(contains(run.stream, SECRET)).toBe(false);
    expect(contains(run.stream, GUEST.subarray(0x1000, 0x1040))).toBe(false); // nor its code
  });

  it('(control) an unprotected VM sends the same secret in the clear: the search would find it', async () => {
    const run = await migrate({ protected: false, paused: true });
    expect(run.migrated).toBe(true);
    expect(contains(run.stream, SECRET)).toBe(true);
  });
});

describe('the destination refuses a stream it cannot trust; the source runs on', () => {
  const cases: [string, Parameters<typeof migrate>[0], RegExp][] = [
    ['a tampered chunk (checksum fixed up)', { protected: true, transform: (s, i) => [i === 3 && sealedIndex(s) ? forge(s, (p) => (p[40]! ^= 1)) : s] }, /failed authentication/],
    ['a replayed chunk', { protected: true, transform: (s, i) => (i === 3 ? [s, s] : [s]) }, /replayed, reordered or cut/],
    ['reordered chunks', { protected: true, transform: (() => { let held: Uint8Array | null = null; return (s: Uint8Array, i: number) => { if (i === 2) { held = s; return []; } if (i === 3) return [s, held!]; return [s]; }; })() }, /replayed, reordered or cut/],
    ['a truncated stream (END never arrives)', { protected: true, transform: (s) => (s[0] === Section.SEALED && s.length < 200 && s.length > 40 ? [] : [s]) }, /closed|truncated|cut/],
    ['a destination with another key', { protected: true, targetKey: OTHER_KEY }, /failed authentication/],
    ['a destination without a key', { protected: true, targetKey: null }, /no migration key/],
    ['an unprotected destination', { protected: true, targetProtected: false }, /source is a protected VM and the destination is not/],
  ];

  it.each(cases)('%s', async (_name, options, reason) => {
    const run = await migrate(options);
    expect(run.migrated).toBe(false);
    expect(run.targetError ?? run.sourceError).toMatch(reason);
    expect(run.sourceError).toBeTruthy();
    expect(run.out).toBe(EXPECTED); // the source finished the guest itself
  });
});
