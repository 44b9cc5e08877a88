import { describe, expect, it } from 'vitest';
import { ACTIVITY_MIGRATION, denied, PAGE_ARRIVED_TAGGED, PAGE_ARRIVED_UNTAGGED } from '../../src/memory/index.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { Monitor } from '../../src/vmm/monitor/monitor.js';
import { MonitorError } from '../../src/vmm/monitor/protocol.js';
import { TAG_FAULT_EVENTS_PER_SECOND } from '../../src/vmm/monitor/events.js';
import type { MonitorSession } from '../../src/vmm/monitor/session.js';
import type { VirtMachine } from '../../src/vmm/index.js';
import { gdbTagsMachine, runUntilStopped, symbol, TAG_BUFFER, TAGGED_PTR } from '../support/debugger.js';

type Message = Record<string, unknown>;

/** A monitor client made of strings. */
class Client {
  readonly lines: Message[] = [];
  congested = false;
  ended = false;
  readonly session: MonitorSession;
  readonly log: string[] = [];

  constructor(
    readonly monitor: Monitor,
    negotiate = true,
  ) {
    this.session = monitor.connect({
      write: (text) => {
        expect(text.endsWith('\n')).toBe(true);
        this.lines.push(JSON.parse(text) as Message);
      },
      congested: () => this.congested,
      end: () => (this.ended = true),
    });
    if (negotiate) this.session.receive(Buffer.from('{"execute":"qmp_capabilities"}\n'));
  }

  /** Sends one request line; resolves with the reply (events before it are kept in `lines`). */
  async run(execute: string, args?: unknown, id?: unknown): Promise<Message> {
    const request: Message = { execute };
    if (args !== undefined) request.arguments = args;
    if (id !== undefined) request.id = id;
    return this.raw(`${JSON.stringify(request)}\n`);
  }

  async raw(text: string): Promise<Message> {
    await this.session.idle(); // earlier requests (the negotiation) have replied
    const before = this.lines.length;
    this.session.receive(Buffer.from(text));
    await this.session.idle();
    const reply = this.lines.slice(before).find((m) => 'return' in m || 'error' in m);
    if (!reply) throw new Error(`no reply to ${text.slice(0, 80)}`);
    return reply;
  }

  events(name?: string): Message[] {
    return this.lines.filter((m) => 'event' in m && (name === undefined || m.event === name));
  }
}

function setup(): { machine: VirtMachine; monitor: Monitor; client: Client } {
  const machine = gdbTagsMachine();
  const monitor = new Monitor(machine, { now: () => 1_700_000_000_123.456 });
  return { machine, monitor, client: new Client(monitor) };
}

/** Runs the guest to checkpoint() (a breakpoint set through the debugger model). */
function toCheckpoint(machine: VirtMachine): void {
  const debug = Debugger.of(machine);
  debug.addBreakpoint(symbol('checkpoint'), false);
  runUntilStopped(machine);
  debug.removeBreakpoint(symbol('checkpoint'), false);
}

const errorClass = (reply: Message) => (reply.error as { class: string } | undefined)?.class;

describe('monitor protocol', () => {
  it('greets, requires qmp_capabilities, then executes commands echoing their id', async () => {
    const machine = gdbTagsMachine();
    const monitor = new Monitor(machine);
    const client = new Client(monitor, false);
    expect(client.lines[0]).toEqual({ QMP: { version: { tagvisor: { major: 0, minor: 1, micro: 0 }, package: 'tagvisor' }, capabilities: [] } });
    expect(errorClass(await client.run('query-status', undefined, 1))).toBe('CommandNotFound');
    expect(await client.run('qmp_capabilities', undefined, 'x')).toEqual({ return: {}, id: 'x' });
    expect(errorClass(await client.run('qmp_capabilities'))).toBe('CommandNotFound');
    expect(await client.run('query-status', undefined, { any: ['json'] })).toEqual({
      return: { status: 'running', running: true, instructions: 0 },
      id: { any: ['json'] },
    });
  });

  it('answers bad input with an error on that connection only', async () => {
    const { monitor, client } = setup();
    const other = new Client(monitor);
    expect(errorClass(await client.raw('{not json\n'))).toBe('JSONParsing');
    expect(errorClass(await client.raw('[1,2]\n'))).toBe('JSONParsing');
    expect(errorClass(await client.raw('{"arguments": {}}\n'))).toBe('JSONParsing');
    expect(await client.raw('{"execute": 5, "id": 7}\n')).toMatchObject({ id: 7, error: { class: 'JSONParsing' } });
    expect(errorClass(await client.raw('{"execute": "query-status", "extra": 1}\n'))).toBe('JSONParsing');
    expect(await client.run('frobnicate', undefined, 3)).toEqual({ error: { class: 'CommandNotFound', desc: 'The command frobnicate has not been found' }, id: 3 });
    expect(errorClass(await client.run('read-memory', { addr: 'zz', size: 4, space: 'physical' }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: 0x4040_0000, size: '4', space: 'physical' }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: 0x4040_0000, size: 4 }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: 0x4040_0000, size: 4, space: 'physical', bogus: 1 }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: 0x4040_0000, size: 1 << 20, space: 'physical' }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: '0x1ffffffffffffffff', size: 4, space: 'virtual' }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: 0x1000, size: 4, space: 'physical' }))).toBe('MemoryError');
    expect(errorClass(await client.run('read-memory', { addr: '0xfffffffffffff000', size: 4, space: 'physical' }))).toBe('MemoryError');
    expect(errorClass(await client.run('query-status', [1]))).toBe('InvalidParameter');
    // Blank lines are ignored; the other connection never saw any of this.
    await client.raw('\n\n{"execute":"query-status"}\n');
    expect(other.lines.filter((m) => 'error' in m)).toEqual([]);
    expect(await other.run('query-status')).toMatchObject({ return: { status: 'running' } });
  });

  it('bounds line length and recovers at the next line', async () => {
    const machine = gdbTagsMachine();
    const client = new Client(new Monitor(machine, { maxLineBytes: 64 }));
    expect(await client.raw(`{"execute": "query-status", "id": "${'x'.repeat(500)}"}\n`)).toEqual({ error: { class: 'JSONParsing', desc: 'line longer than 64 bytes' } });
    expect(await client.run('query-status', undefined, 2)).toMatchObject({ id: 2, return: { running: true } });
  });

  it('reassembles lines split anywhere, including inside a UTF-8 sequence', async () => {
    const { client } = setup();
    const bytes = Buffer.from('{"execute":"query-status","id":"é€"}\n');
    await client.session.idle();
    const before = client.lines.length;
    for (const b of bytes) client.session.receive(Uint8Array.of(b));
    await client.session.idle();
    expect(client.lines.slice(before)).toMatchObject([{ id: 'é€', return: { status: 'running' } }]);
  });
});

describe('monitor commands', () => {
  it('stop, cont, system_reset and quit, with events and state rules', async () => {
    const { machine, client } = setup();
    expect(await client.run('stop')).toEqual({ return: {} });
    expect(machine.state).toBe('paused');
    expect(await client.run('query-status')).toMatchObject({ return: { status: 'paused', running: false, 'stop-reason': 'pause' } });
    expect(await client.run('stop')).toEqual({ return: {} });
    expect(await client.run('system_reset')).toEqual({ return: {} });
    expect(machine.state).toBe('paused');
    expect(await client.run('cont')).toEqual({ return: {} });
    expect(machine.state).toBe('running');
    expect(client.events().map((e) => e.event)).toEqual(['STOP', 'RESET', 'RESUME']);
    expect(client.events('STOP')[0]).toEqual({ event: 'STOP', data: { reason: 'pause' }, timestamp: { seconds: 1_700_000_000, microseconds: 123456 } });
    runUntilStopped(machine);
    expect(client.events('SHUTDOWN')).toMatchObject([{ data: { guest: true, reason: 'guest-exit', 'exit-code': 3 } }]);
    expect(await client.run('cont')).toMatchObject({ error: { class: 'InvalidState', desc: "'cont' is not allowed while the VM is shutdown (allowed: running, paused)" } });
    expect(errorClass(await client.run('write-memory', { addr: 0x4040_0000, data: '00', space: 'physical' }))).toBe('InvalidState');
    expect(await client.run('query-status')).toMatchObject({ return: { status: 'shutdown', shutdown: { kind: 'semihosting-exit', code: 3 } } });
  });

  it('quit replies first, then ends the machine', async () => {
    const { machine, client } = setup();
    await client.session.idle();
    const before = client.lines.length;
    await client.run('quit', undefined, 'q');
    const [reply, event] = client.lines.slice(before);
    expect(reply).toEqual({ return: {}, id: 'q' });
    expect(event).toMatchObject({ event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
    expect(machine.shutdown).toEqual({ kind: 'terminated', by: 'monitor' });
  });

  it('reads and writes memory and tags, virtually and physically, never tag-checked', async () => {
    const { machine, client } = setup();
    toCheckpoint(machine);
    expect(await client.run('read-memory', { addr: `0x${TAGGED_PTR.toString(16)}`, size: 8, space: 'virtual' })).toEqual({
      return: { addr: '0x300000040400000', data: '1111111111111111' },
    });
    expect(await client.run('read-memory', { addr: 0x4040_0008, size: 8, space: 'physical' })).toEqual({ return: { addr: '0x40400008', data: '2222222222222222' } });
    // A wrongly tagged pointer: no tag check, and the write leaves tags alone.
    expect(await client.run('write-memory', { addr: '0x0f00000040400000', data: 'aabb', space: 'virtual' })).toEqual({ return: {} });
    expect(await client.run('read-tags', { addr: Number(TAG_BUFFER), size: 0x80, space: 'physical' })).toEqual({
      return: { start: '0x40400000', 'granule-size': 16, tags: '3333aa00' },
    });
    expect(await client.run('write-tags', { addr: `0x${TAGGED_PTR.toString(16)}`, size: 48, tags: '56', space: 'virtual' })).toEqual({ return: {} });
    expect(await client.run('read-tags', { addr: '0x40400008', size: 0x50, space: 'virtual' })).toMatchObject({ return: { start: '0x40400000', tags: '5653aa' } });
    expect(errorClass(await client.run('write-tags', { addr: 0x4040_0000, size: 16, tags: '', space: 'physical' }))).toBe('InvalidParameter');
    expect(errorClass(await client.run('read-memory', { addr: 0x4040_9000, size: 4, space: 'virtual' }))).toBe('MemoryError');
    expect(errorClass(await client.run('write-memory', { addr: '0x40408ffc', data: '0011223344556677', space: 'virtual' }))).toBe('MemoryError');
    expect(await client.run('read-memory', { addr: '0x40408ffc', size: 4, space: 'virtual' })).toMatchObject({ return: { data: '00000000' } });
    expect(errorClass(await client.run('write-memory', { addr: 0x4040_0000, data: 'abc', space: 'physical' }))).toBe('InvalidParameter');
    expect(machine.vcpu.cpu.tagFaultCount).toBe(0);
    // The guest runs on with the monitor's tags and data.
    Debugger.of(machine).resume();
    runUntilStopped(machine);
    expect(machine.shutdown).toEqual({ kind: 'semihosting-exit', code: 5 });
  });

  it("maps the VM's debug-policy refusal to AccessDenied", async () => {
    const { machine, client } = setup();
    toCheckpoint(machine);
    machine.vm.memory.setPolicy({
      authorize(request) {
        if (request.cls === 'debug') throw denied(request, request.gpa, 'debug access is not allowed on this VM');
      },
    });
    for (const [command, args] of [
      ['read-memory', { addr: 0x4040_0000, size: 8, space: 'physical' }],
      ['write-memory', { addr: 0x4040_0000, data: '00', space: 'virtual' }],
      ['read-tags', { addr: 0x4040_0000, size: 16, space: 'virtual' }],
      ['write-tags', { addr: 0x4040_0000, size: 16, tags: '7', space: 'physical' }],
    ] as const) {
      const reply = await client.run(command, args);
      expect(errorClass(reply), command).toBe('AccessDenied');
      expect((reply.error as { desc: string }).desc).toMatch(/refused: debug access is not allowed/);
    }
    machine.vm.memory.setPolicy({ authorize() {} });
    expect(await client.run('read-tags', { addr: 0x4040_0000, size: 16, space: 'virtual' })).toMatchObject({ return: { tags: '3' } });
  });

  it('query-mte during a post-copy: pages delivered by the page thread count as tagged, the rest as missing', async () => {
    const { machine, client } = setup();
    const region = machine.vm.memory.space.ramRegions[0]!;
    const [missing] = machine.vm.memory.markAllMissing(null);
    // What the page thread does for one page: data and tags into shared memory, then the state.
    region.tags!.packed.fill(0x55, 128, 256); // page 1's packed tags, written in shared memory
    Atomics.store(missing!.state, 1, PAGE_ARRIVED_TAGGED);
    Atomics.store(missing!.state, 2, PAGE_ARRIVED_UNTAGGED);
    const mte = (await client.run('query-mte')).return as Record<string, unknown>;
    expect(mte).toMatchObject({ 'tagged-pages': 1, 'missing-pages': region.pages - 2 });
    expect(region.tags!.isInitialised(1)).toBe(true);
    expect(region.activity.tagPages[ACTIVITY_MIGRATION]).toBe(1); // the viewer's activity learns it too
  });

  it('query-mte and query-cpus', async () => {
    const { machine, client } = setup();
    toCheckpoint(machine);
    const mte = (await client.run('query-mte')).return as Record<string, unknown>;
    expect(mte).toMatchObject({
      enabled: true,
      el1: { 'tag-access': true, tcf: 'sync' },
      el0: { 'tag-access': true, tcf: 'none' },
      tco: false,
      faults: { total: 0 },
    });
    expect(mte['tagged-pages']).toBeGreaterThan(0);
    const cpus = (await client.run('query-cpus')).return as Record<string, unknown>[];
    expect(cpus).toHaveLength(1);
    expect(cpus[0]).toMatchObject({ 'cpu-index': 0, el: 1, pc: `0x${symbol('checkpoint').toString(16)}` });
    const regs = cpus[0]!.registers as Record<string, string>;
    expect(regs.pc).toBe(`0x${symbol('checkpoint').toString(16)}`);
    expect(regs.x30).toMatch(/^0x4008/);
    expect(Object.keys(regs)).toEqual(expect.arrayContaining(['x0', 'sp', 'cpsr', 'tag_ctl', 'sctlr_el1', 'gcr_el1', 'tfsr_el1']));
  });

  it('reports tag-check faults as events, rate-limited, and counts them', async () => {
    const { machine, monitor, client } = setup();
    toCheckpoint(machine);
    await client.run('write-tags', { addr: 0x4040_0000, size: 16, tags: '9', space: 'physical' });
    Debugger.of(machine).resume();
    runUntilStopped(machine);
    const [fault] = client.events('TAG_CHECK_FAULT');
    expect(fault?.data).toMatchObject({ addr: '0x300000040400000', 'logical-tag': 3, 'allocation-tag': 9, size: 8, write: false, sync: true, el: 1 });
    expect((await client.run('query-mte')).return).toMatchObject({ faults: { total: 1, 'sync-since-monitor-start': 1, 'async-since-monitor-start': 0 } });
    // A storm: the hub sends at most TAG_FAULT_EVENTS_PER_SECOND a second and says how many it dropped.
    const info = { pcLo: 0, pcHi: 0, addrLo: 0, addrHi: 0, logicalTag: 1, allocationTag: 2, size: 1, write: true, sync: false, el: 0 };
    for (let i = 0; i < TAG_FAULT_EVENTS_PER_SECOND + 50; i++) machine.events.emit('tag-check-fault', info);
    expect(client.events('TAG_CHECK_FAULT').length).toBeLessThanOrEqual(TAG_FAULT_EVENTS_PER_SECOND);
    expect(monitor.events.faults.async).toBe(TAG_FAULT_EVENTS_PER_SECOND + 50);
  });

  it('drops events, never replies, for a client that does not read; its requests wait until it reads', async () => {
    const { machine, client } = setup();
    client.congested = true;
    Debugger.of(machine).pause(); // STOP: dropped
    client.session.receive(Buffer.from('{"execute":"cont","id":1}\n'));
    await client.session.idle();
    expect(client.lines.slice(2)).toEqual([]);
    expect(machine.state).toBe('paused');
    client.congested = false;
    client.session.resume();
    await client.session.idle();
    expect(client.lines.slice(2).map((m) => m.event ?? m.id)).toEqual(['RESUME', 1]);
  });

  it('takes commands registered later by other modules (snapshots, migration) and their events', async () => {
    const { monitor, client } = setup();
    monitor.registry.register({
      name: 'snapshot-save',
      description: 'test double',
      states: ['paused'],
      args: { path: { type: 'string', description: 'file' } },
      returns: '{}',
      run: async (context, args) => {
        await Promise.resolve();
        if (args.path === 'bad') throw new MonitorError('GenericError', 'cannot write bad');
        context.events.emit('MIGRATION', { status: 'completed' });
        return { saved: args.path };
      },
    });
    expect(() => monitor.registry.register({ name: 'snapshot-save', description: '', states: 'any', args: {}, returns: '', run: () => undefined })).toThrow(/already registered/);
    expect(errorClass(await client.run('snapshot-save', { path: 'x' }))).toBe('InvalidState');
    await client.run('stop');
    expect(await client.run('snapshot-save', { path: 'a.snap' })).toEqual({ return: { saved: 'a.snap' } });
    expect(client.events('MIGRATION')).toMatchObject([{ data: { status: 'completed' } }]);
    expect(await client.run('snapshot-save', { path: 'bad' })).toEqual({ error: { class: 'GenericError', desc: 'cannot write bad' } });
    const commands = (await client.run('query-commands')).return as { name: string }[];
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['qmp_capabilities', 'snapshot-save', 'read-tags', 'query-mte', 'quit']));
  });

  it('an internal failure is a GenericError and the session carries on', async () => {
    const { monitor, client } = setup();
    monitor.registry.register({ name: 'explode', description: '', states: 'any', args: {}, returns: '', run: () => { throw new TypeError('boom'); } });
    expect(await client.run('explode')).toEqual({ error: { class: 'GenericError', desc: 'boom' } });
    expect(await client.run('query-status')).toMatchObject({ return: { running: true } });
  });
});
