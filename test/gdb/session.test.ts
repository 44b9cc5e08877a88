import { describe, expect, it } from 'vitest';
import { denied, ownershipPolicy, PageOwnership } from '../../src/memory/index.js';
import { MAX_MEMORY_READ } from '../../src/vmm/debug/gdb/data-packets.js';
import { toHex } from '../../src/vmm/debug/gdb/packet-codec.js';
import { FakeGdb, gdbTagsMachine, runUntilStopped, symbol, TAG_BUFFER, TAGGED_PTR } from '../support/debugger.js';

const hex = (n: bigint | number) => n.toString(16);
const PC = 0x20;
const X30 = 0x1e;

/** A gdb attached to the gdb-tags guest, stopped at checkpoint(). */
function atCheckpoint(): FakeGdb {
  const gdb = new FakeGdb(gdbTagsMachine());
  expect(gdb.ask(`Z0,${hex(symbol('checkpoint'))},4`)).toBe('OK');
  const mark = gdb.output.length;
  expect(gdb.send('c')).toEqual([]);
  runUntilStopped(gdb.machine);
  expect(gdb.since(mark)).toEqual(['T05swbreak:;thread:p1.1;']);
  return gdb;
}

/** Reads a qXfer object whole, chunk by chunk. */
function xfer(gdb: FakeGdb, prefix: string, chunk = 0x100): string {
  let out = '';
  for (let offset = 0; ; offset += chunk) {
    const reply = gdb.ask(`${prefix}${hex(offset)},${hex(chunk)}`);
    out += reply.slice(1).replace(/\}(.)/gs, (_, c: string) => String.fromCharCode(c.charCodeAt(0) ^ 0x20));
    if (reply[0] === 'l') return out;
    expect(reply[0]).toBe('m');
  }
}

function readFile(gdb: FakeGdb, path: string): string {
  const open = gdb.ask(`vFile:open:${toHex(Buffer.from(path))},0,0`);
  expect(open).toMatch(/^F[0-9a-f]+$/);
  const fd = open.slice(1);
  let out = '';
  for (let offset = 0; ; ) {
    const reply = gdb.ask(`vFile:pread:${fd},200,${hex(offset)}`);
    const [, count, data] = /^F([0-9a-f]+);(.*)$/s.exec(reply)!;
    if (count === '0') break;
    out += data!.replace(/\}(.)/gs, (_, c: string) => String.fromCharCode(c.charCodeAt(0) ^ 0x20));
    offset += parseInt(count!, 16);
  }
  expect(gdb.ask(`vFile:close:${fd}`)).toBe('F0');
  return out;
}

describe('gdb session: connection and target description', () => {
  it('stops a running machine on attach and answers the queries gdb 13 sends', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    expect(gdb.machine.state).toBe('paused');
    const supported = gdb.ask('qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;memory-tagging+');
    for (const feature of ['memory-tagging+', 'multiprocess+', 'qXfer:features:read+', 'swbreak+', 'QStartNoAckMode+']) expect(supported).toContain(feature);
    expect(gdb.ask('vMustReplyEmpty')).toBe('');
    expect(gdb.ask('Hgp0.0')).toBe('OK');
    expect(gdb.ask('?')).toBe('T05thread:p1.1;');
    expect(gdb.ask('qfThreadInfo')).toBe('mp1.1');
    expect(gdb.ask('qsThreadInfo')).toBe('l');
    expect(gdb.ask('qC')).toBe('QCp1.1');
    expect(gdb.ask('qAttached:1')).toBe('1');
    expect(gdb.ask('Tp1.1')).toBe('OK');
    expect(gdb.ask('Tp2.1')).toBe('E02');
    expect(gdb.ask('vCont?')).toBe('vCont;c;C;s;S');
  });

  it('describes aarch64 core registers, the MTE feature and system registers, as GNU/Linux', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    const xml = xfer(gdb, 'qXfer:features:read:target.xml:');
    expect(xml).toContain('<architecture>aarch64</architecture>');
    expect(xml).toContain('<osabi>GNU/Linux</osabi>');
    expect(xml).toContain('<feature name="org.gnu.gdb.aarch64.core">');
    expect(xml).toContain('<reg name="x0" bitsize="64" type="int" regnum="0"/>');
    expect(xml).toContain('<reg name="pc" bitsize="64" type="code_ptr" regnum="32"/>');
    expect(xml).toContain('<reg name="cpsr" bitsize="32" type="cpsr_flags" regnum="33"/>');
    expect(xml).toMatch(/<feature name="org.gnu.gdb.aarch64.mte">\s*<reg name="tag_ctl" bitsize="64"[^>]*regnum="34"/);
    expect(xml).toContain('name="sctlr_el1"');
    expect(xml).toContain('name="gcr_el1"');
    expect(xml).toMatch(/<feature name="org.gnu.gdb.aarch64.fpu">[\s\S]*<reg name="v0" bitsize="128" type="aarch64v"[\s\S]*<reg name="fpcr" bitsize="32"/);
    expect(xml.match(/<feature /g)).toHaveLength(4);
    expect(gdb.ask('qXfer:features:read:other.xml:0,100')).toBe('E00');
  });

  it('has no MTE feature or MTE registers when the VM has MTE off', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    const off = new FakeGdb(new (gdb.machine.constructor as typeof import('../../src/vmm/index.js').VirtMachine)({ memoryBytes: 64 * 2 ** 20, mte: false }));
    const xml = xfer(off, 'qXfer:features:read:target.xml:');
    expect(xml).not.toContain('aarch64.mte');
    expect(xml).not.toContain('gcr_el1');
  });

  it('stops acknowledging after QStartNoAckMode', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    const mark = gdb.output.length;
    gdb.send('QStartNoAckMode');
    expect(gdb.output.slice(mark)).toMatch(/^\+\$OK#/);
    const next = gdb.output.length;
    gdb.send('qC');
    expect(gdb.output.slice(next)).toMatch(/^\$QCp1\.1#/);
  });
});

describe('gdb session: registers', () => {
  it('reads and writes registers, system registers through their model', () => {
    const gdb = atCheckpoint();
    const regs = gdb.debug.registers;
    const g = gdb.ask('g');
    expect(g.length).toBe(regs.list.reduce((n, r) => n + r.bits / 4, 0));
    expect(gdb.ask(`p${hex(PC)}`)).toBe(Buffer.from(new BigUint64Array([symbol('checkpoint')]).buffer).toString('hex'));
    expect(gdb.ask('P0=8877665544332211')).toBe('OK');
    expect(gdb.machine.vcpu.getX(0)).toBe(0x1122334455667788n);
    expect(gdb.ask('p0')).toBe('8877665544332211');
    const sctlr = regs.indexOf('sctlr_el1');
    expect(BigInt(`0x${Buffer.from(gdb.ask(`p${hex(sctlr)}`), 'hex').reverse().toString('hex')}`) & 1n).toBe(1n); // MMU on
    // tag_ctl: TBI0 and SCTLR_EL1.TCF0 = 0 at EL0 as the guest left them, all tags includable.
    expect(gdb.ask('p22')).toBe(registerHex(1n | (0xffffn << 3n)));
    expect(gdb.ask(`P22=${registerHex(0n)}`)).toBe('E16');
    expect(gdb.ask(`P21=${'1f000000'}`)).toBe('E16'); // cpsr mode 0b11111 is not EL0t/EL1t/EL1h
    expect(gdb.ask('pfff')).toBe('E16');
    expect(gdb.ask('P0=12')).toBe('E16');
    // G writes every writable register whose value changed.
    const replaced = `${'00'.repeat(8)}${g.slice(16)}`;
    expect(gdb.ask(`G${replaced}`)).toBe('OK');
    expect(gdb.machine.vcpu.getX(0)).toBe(0n);
  });
});

function registerHex(value: bigint): string {
  return Buffer.from(new BigUint64Array([value]).buffer).toString('hex');
}

describe('gdb session: memory and tags through the debug access class', () => {
  it('reads and writes through tagged pointers without tag checks, leaving tags alone', () => {
    const gdb = atCheckpoint();
    const wrongTag = (TAGGED_PTR & ~(0xfn << 56n)) | (0xfn << 56n);
    expect(gdb.ask(`m${hex(TAGGED_PTR)},10`)).toBe('1111111111111111' + '2222222222222222');
    expect(gdb.ask(`m${hex(wrongTag)},8`)).toBe('1111111111111111');
    expect(gdb.ask(`M${hex(wrongTag)},2:abcd`)).toBe('OK');
    // X: binary, with the escaped bytes '#', '$', '}' and '*'.
    expect(gdb.ask(`X${hex(TAG_BUFFER + 2n)},4:}\x03}\x04}]}\x0a`)).toBe('OK');
    expect(gdb.ask(`m${hex(TAG_BUFFER)},6`)).toBe('abcd23247d2a');
    expect(gdb.ask(`X${hex(TAG_BUFFER)},0:`)).toBe('OK');
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},80:1`)).toBe('m030303030a0a0000');
    expect(gdb.machine.vcpu.cpu.tagFaultCount).toBe(0);
  });

  it('qMemTags covers every granule the range touches; QMemTags repeats its pattern', () => {
    const gdb = atCheckpoint();
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER + 15n)},2:1`)).toBe('m0303');
    expect(gdb.ask(`qMemTags:${hex(TAGGED_PTR)},1:1`)).toBe('m03');
    expect(gdb.ask(`QMemTags:${hex(TAG_BUFFER)},40:1:0506`)).toBe('OK');
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},60:1`)).toBe('m050605060a0a');
    expect(gdb.ask(`QMemTags:${hex(TAG_BUFFER)},10:1:10`)).toBe('E16'); // not a 4-bit tag
    expect(gdb.ask(`QMemTags:${hex(TAG_BUFFER)},10:1:`)).toBe('E16'); // empty pattern
    // The guest sees the new tags once it runs on.
    gdb.ask(`z0,${hex(symbol('checkpoint'))},4`);
    gdb.send('c');
    runUntilStopped(gdb.machine);
    expect(gdb.machine.shutdown).toEqual({ kind: 'semihosting-exit', code: 5 });
  });

  it('refuses bad tag requests with E replies', () => {
    const gdb = atCheckpoint();
    expect(gdb.ask(`qMemTags:${hex(0x4040_9000n)},10:1`)).toBe('E0e'); // unmapped page
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},10:0`)).toBe('E16'); // logical tags are gdb's business
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},ffffffffffffffff:1`)).toBe('E16'); // absurd length
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)}:1`)).toBe('E16');
    expect(gdb.ask('qMemTags:zz,10:1')).toBe('E16');
  });

  it('qIsAddressTagged follows the current mapping', () => {
    const gdb = atCheckpoint();
    expect(gdb.ask(`qIsAddressTagged:${hex(TAGGED_PTR)}`)).toBe('01');
    expect(gdb.ask('qIsAddressTagged:40408000')).toBe('00'); // Normal, not tagged
    expect(gdb.ask('qIsAddressTagged:40409000')).toBe('00'); // unmapped
    expect(gdb.ask('qIsAddressTagged:80400000')).toBe('00'); // the untagged alias of the same RAM
    expect(gdb.ask('qIsAddressTagged:ffffff8040400000')).toBe('01'); // the upper-half alias
  });

  it('caps absurd m lengths and reads up to the first unmapped page', () => {
    const gdb = atCheckpoint();
    expect(gdb.ask(`m${hex(TAG_BUFFER)},ffffffffffffffff`)).toHaveLength(MAX_MEMORY_READ * 2);
    expect(gdb.ask('m40408ff8,10')).toHaveLength(16); // stops at the unmapped page 0x40409000
    expect(gdb.ask('m40409000,10')).toBe('E0e');
    expect(gdb.ask('m40409000,0')).toBe('');
    expect(gdb.ask('m1ffffffffffffffff,4')).toBe('E16');
    expect(gdb.ask(`M${hex(TAG_BUFFER)},4:0011`)).toBe('E16'); // length mismatch
    expect(gdb.ask('M40408ffc,8:0011223344556677')).toBe('E0e'); // crosses into the unmapped page
    expect(gdb.ask('m40408ffc,4')).toBe('00000000'); // ...and nothing was written
  });

  it("serves /proc/1/smaps with the 'mt' flag on Normal-Tagged mappings only", () => {
    const gdb = atCheckpoint();
    expect(gdb.ask(`vFile:setfs:0`)).toBe('F0');
    const smaps = readFile(gdb, '/proc/1/smaps');
    const flagsOf = (range: string) => new RegExp(`^${range} [^\\n]*\\n(?:[A-Z][^\\n]*\\n)*?VmFlags: ([^\\n]*)`, 'm').exec(smaps)?.[1];
    expect(flagsOf('40400000-40408000')).toBe('rd wr mr mw me mt');
    expect(flagsOf('40408000-40409000')).toBe('rd wr mr mw me');
    expect(flagsOf('40080000-40083000')).toMatch(/^rd ex .* mt$/);
    expect(flagsOf('80000000-c0000000')).not.toContain('mt');
    expect(smaps).not.toContain('40409000-');
    expect(readFile(gdb, '/proc/1/maps')).toContain('40400000-40408000 rw-p 40400000 00:00 0\n');
    expect(gdb.ask(`vFile:open:${toHex(Buffer.from('/etc/passwd'))},0,0`)).toBe('F-1,2');
    expect(gdb.ask(`vFile:open:${toHex(Buffer.from('/proc/2/smaps'))},0,0`)).toBe('F-1,2');
    expect(gdb.ask(`vFile:open:${toHex(Buffer.from('/proc/1/smaps'))},1,0`)).toBe('F-1,1e');
    expect(gdb.ask('vFile:pread:99,10,0')).toBe('F-1,9');
    expect(gdb.ask('vFile:close:99')).toBe('F-1,9');
    expect(gdb.ask('vFile:unlink:00')).toBe('');
    expect(gdb.ask('vFile:open:zz,0,0')).toBe('E16');
  });

  it('an auxv advertises HWCAP2_MTE', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    const auxv = Buffer.from(xfer(gdb, 'qXfer:auxv:read::'), 'latin1');
    const pairs = new Map<bigint, bigint>();
    for (let i = 0; i + 16 <= auxv.length; i += 16) pairs.set(auxv.readBigUInt64LE(i), auxv.readBigUInt64LE(i + 8));
    expect(pairs.get(26n)! & (1n << 18n)).toBe(1n << 18n);
    expect(pairs.get(0n)).toBe(0n);
  });

  it("surfaces the VM's debug-policy refusal as E0d, changing nothing", () => {
    const gdb = atCheckpoint();
    gdb.machine.vm.memory.setPolicy({
      authorize(request) {
        if (request.cls === 'debug') throw denied(request, request.gpa, 'debug access is not allowed on this VM');
      },
    });
    expect(gdb.ask(`m${hex(TAGGED_PTR)},8`)).toBe('E0d');
    expect(gdb.ask(`M${hex(TAGGED_PTR)},1:00`)).toBe('E0d');
    expect(gdb.ask(`X${hex(TAGGED_PTR)},1:a`)).toBe('E0d');
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},10:1`)).toBe('E0d');
    expect(gdb.ask(`QMemTags:${hex(TAG_BUFFER)},10:1:05`)).toBe('E0d');
    gdb.machine.vm.memory.setPolicy({ authorize() {} });
    expect(gdb.ask(`m${hex(TAGGED_PTR)},8`)).toBe('1111111111111111');
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},10:1`)).toBe('m03');
  });
});

describe('gdb session: a protected VM', () => {
  it('reaches pages the guest shared and is refused (E0d) on private ones, and audited when debug is allowed', () => {
    const gdb = atCheckpoint();
    const ownership = new PageOwnership(gdb.machine.vm.memory.space);
    ownership.share(Number(TAG_BUFFER), 4096);
    gdb.machine.vm.memory.setPolicy(ownershipPolicy(ownership, { allowDebug: false }));
    expect(gdb.ask(`m${hex(TAGGED_PTR)},8`)).toBe('1111111111111111');
    expect(gdb.ask(`qMemTags:${hex(TAG_BUFFER)},10:1`)).toBe('m03');
    expect(gdb.ask('m40401000,8')).toBe('E0d');
    expect(gdb.ask('qMemTags:40401000,10:1')).toBe('E0d');
    expect(gdb.ask('M40400ffc,8:0102030405060708')).toBe('E0d'); // straddles into a private page: nothing written
    expect(gdb.ask('m40400ffc,4')).toBe('00000000');
    const audited: string[] = [];
    gdb.machine.vm.memory.setPolicy(ownershipPolicy(ownership, { allowDebug: true, audit: (r) => audited.push(`${r.op} ${r.gpa.toString(16)}`) }));
    expect(gdb.ask('m40401000,8')).toBe('0000000000000000');
    expect(audited).toEqual(['read 40401000']);
  });
});

describe('gdb session: run control', () => {
  it('single-steps: the ret of checkpoint() returns to its caller', () => {
    const gdb = atCheckpoint();
    const lr = gdb.machine.vcpu.getX(30);
    const mark = gdb.output.length;
    gdb.send('vCont;s:p1.1;c:p1.-1');
    expect(gdb.since(mark)).toEqual(['T05thread:p1.1;']);
    expect(gdb.machine.vcpu.pc).toBe(lr);
    expect(gdb.ask(`p${hex(X30)}`)).toBe(registerHex(lr));
    // A plain 's' too.
    const next = gdb.output.length;
    gdb.send('s');
    expect(gdb.since(next)).toEqual(['T05thread:p1.1;']);
    expect(gdb.machine.vcpu.pc).toBe(lr + 4n);
  });

  it('continues past a breakpoint it stopped at (gdb removes it or not)', () => {
    const gdb = atCheckpoint();
    const mark = gdb.output.length;
    gdb.send('c');
    runUntilStopped(gdb.machine);
    expect(gdb.since(mark)).toEqual(['W03;process:1']);
    expect(gdb.ask('?')).toBe('W03;process:1');
    expect(gdb.ask('c')).toBe('W03;process:1');
  });

  it('reports a write watchpoint before the store, with the watched address', () => {
    const gdb = atCheckpoint();
    const watched = symbol('watched');
    expect(gdb.ask(`Z2,${hex(watched)},8`)).toBe('OK');
    const mark = gdb.output.length;
    gdb.send('c');
    runUntilStopped(gdb.machine);
    expect(gdb.since(mark)).toEqual([`T05watch:${hex(watched)};thread:p1.1;`]);
    expect(gdb.ask(`m${hex(watched)},8`)).toBe('0000000000000000'); // the store has not happened
    expect(gdb.ask(`z2,${hex(watched)},8`)).toBe('OK');
    gdb.send('s');
    expect(gdb.ask(`m${hex(watched)},8`)).toBe('5a5a000000000000');
    expect(gdb.ask(`Z3,${hex(watched)},8`)).toBe('OK');
    expect(gdb.ask(`Z9,${hex(watched)},8`)).toBe('');
  });

  it('Ctrl-C stops a running machine with SIGINT', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    gdb.send('c');
    gdb.machine.runSlice(1000);
    expect(gdb.machine.state).toBe('running');
    const mark = gdb.output.length;
    gdb.raw('\x03');
    expect(gdb.machine.state).toBe('paused');
    expect(gdb.since(mark)).toEqual(['T02thread:p1.1;']);
    // Ctrl-C when nothing runs is ignored.
    expect(gdb.raw('\x03')).toEqual([]);
  });

  it('a stop or quit from elsewhere (the monitor) while gdb waits is reported to gdb', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    gdb.send('c');
    gdb.machine.runSlice(100);
    let mark = gdb.output.length;
    gdb.debug.pause();
    expect(gdb.since(mark)).toEqual(['T02thread:p1.1;']);
    gdb.send('c');
    mark = gdb.output.length;
    gdb.machine.terminate('monitor');
    expect(gdb.since(mark)).toEqual(['X09;process:1']);
  });

  it('detach removes its breakpoints and lets the machine run', () => {
    const gdb = atCheckpoint();
    expect(gdb.ask(`Z1,${hex(symbol('main'))},4`)).toBe('OK');
    expect(gdb.ask('D;1')).toBe('OK');
    expect(gdb.ended).toBe(true);
    expect(gdb.machine.state).toBe('running');
    gdb.machine.reset();
    runUntilStopped(gdb.machine);
    expect(gdb.machine.shutdown).toEqual({ kind: 'semihosting-exit', code: 3 });
  });

  it('kill ends the machine', () => {
    const gdb = atCheckpoint();
    expect(gdb.send('vKill;1')).toEqual(['OK']);
    expect(gdb.machine.shutdown).toEqual({ kind: 'terminated', by: 'gdb' });
    const plain = atCheckpoint();
    expect(plain.send('k')).toEqual([]);
    expect(plain.machine.state).toBe('shutdown');
  });

  it('a disconnect mid-packet leaves the machine as it was and drops the breakpoints', () => {
    const gdb = atCheckpoint();
    gdb.ask(`z0,${hex(symbol('checkpoint'))},4`);
    gdb.ask(`Z0,${hex(symbol('main'))},4`);
    gdb.send('c');
    gdb.machine.runSlice(100);
    gdb.raw('$m4040');
    gdb.session.close();
    expect(gdb.machine.state).toBe('running');
    gdb.machine.reset();
    runUntilStopped(gdb.machine); // main's breakpoint is gone
    expect(gdb.machine.shutdown).toEqual({ kind: 'semihosting-exit', code: 3 });
    // Paused stays paused.
    const paused = atCheckpoint();
    paused.raw('$qSupp');
    paused.session.close();
    expect(paused.machine.state).toBe('paused');
  });
});

describe('gdb session: malformed input', () => {
  it('NAKs a bad checksum, resends a reply gdb NAKs, and answers unknown packets with nothing', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    const mark = gdb.output.length;
    gdb.raw('$qC#00');
    expect(gdb.output.slice(mark)).toBe('-');
    expect(gdb.log.join()).toMatch(/bad checksum/);
    expect(gdb.ask('qC')).toBe('QCp1.1');
    expect(gdb.raw('-')).toEqual(['QCp1.1']);
    expect(gdb.ask('Qbogus')).toBe('');
    expect(gdb.ask('!')).toBe('');
    expect(gdb.ask('vRun;00')).toBe('');
    expect(gdb.ask('\x7f\x80\xff')).toBe('');
  });

  it('refuses malformed arguments with E replies and survives any byte soup', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    for (const bad of ['mzz,4', 'm1', 'M1,2', 'Z0,zz,4', 'Z0', 'P', 'Pzz=1', 'c zz', 'Hgq', 'vCont;x', 'qXfer:features:read:target.xml:zz', 'G1']) {
      expect(gdb.ask(bad), bad).toMatch(/^E[0-9a-f]{2}$/);
    }
    const soup = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919 + 13) & 0xff)).toString('latin1');
    expect(() => gdb.raw(soup)).not.toThrow();
    expect(gdb.ask('qC')).toBe('QCp1.1');
  });

  it('answers an oversized packet with an error instead of buffering it', () => {
    const gdb = new FakeGdb(gdbTagsMachine());
    const big = `X40400000,10:${'a'.repeat(200_000)}`;
    expect(gdb.send(big)).toEqual(['E16']);
    expect(gdb.ask('qC')).toBe('QCp1.1');
  });
});
