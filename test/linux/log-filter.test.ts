import { describe, expect, it } from 'vitest';
import { comparableLog } from './log-filter.js';

/** Each rule of the filter (docs/linux.md, "Comparing with QEMU"), on lines from real logs. */
describe('Linux console log filter (test/linux/log-filter.ts)', () => {
  it('drops the time prefix and masks elapsed times, keeping the rest of the line', () => {
    const log = comparableLog('[    0.000000] Machine model: linux,dummy-virt\n[    7.9] node 0 deferred pages initialised in 8ms\n');
    expect(log.lines).toEqual(['Machine model: linux,dummy-virt', 'node 0 deferred pages initialised in <ms>ms']);
  });

  it("drops a late hrtimer interrupt's report (a busy host delays QEMU's guest), and nothing like it", () => {
    const log = comparableLog('[    5.2] virtio_blk virtio0: 1/0/0 default/read/poll queues\n[    5.3] hrtimer: interrupt took 13307256 ns\n[    5.4] hrtimer: something else\n');
    expect(log.lines).toEqual(['virtio_blk virtio0: 1/0/0 default/read/poll queues', 'hrtimer: something else']);
  });

  it('compares asynchronous lines without their position, and masks the audit time', () => {
    const a = comparableLog('[ 1.0] Trying to unpack rootfs image as initramfs...\n[ 1.1] x\n[ 1.2] audit: type=2000 audit(0.356:1): state=initialized\n');
    const b = comparableLog('[ 1.0] x\n[ 1.1] audit: type=2000 audit(0.008:1): state=initialized\n[ 1.2] Trying to unpack rootfs image as initramfs...\n');
    expect(a.lines).toEqual(b.lines);
    expect(a.unordered).toEqual(b.unordered);
    expect(a.unordered).toContain('audit: type=2000 audit(<time>:1): state=initialized');
  });

  it('collects CPU features and the lines of documented machine differences apart', () => {
    const log = comparableLog('[ 0.0] CPU features: detected: Memory Tagging Extension\n[ 0.1] SVE: default vector length 64 bytes per vector\n[ 0.2] Floating-point is not implemented\n[ 0.3] cacheinfo: Unable to detect cache hierarchy for CPU 0\n');
    expect(log.features).toEqual(['Memory Tagging Extension']);
    expect(log.machine).toHaveLength(3);
    expect(log.lines).toEqual([]);
  });

  it('masks the MIDR and the loader-dependent Memory figures, not the kernel sizes', () => {
    const line = (avail: string, code: string) => `[ 0.0] Memory: ${avail}/262144K available (${code}K kernel code, 2806K rwdata, 9524K rodata, 6464K init, 627K bss, 38240K reserved, 65536K cma-reserved)\n`;
    expect(comparableLog(line('98324K', '13248')).lines).toEqual(comparableLog(line('98172K', '13248')).lines);
    expect(comparableLog(line('98324K', '13248')).lines).not.toEqual(comparableLog(line('98324K', '13249')).lines);
    expect(comparableLog('[ 0.0] Booting Linux on physical CPU 0x0000000000 [0x000f0510]\n').lines).toEqual(['Booting Linux on physical CPU 0x0000000000 [<midr>]']);
  });

  it('keeps every other difference: a changed line still fails the comparison', () => {
    expect(comparableLog('[ 0.0] virtio_blk virtio1: [vda] 2048 512-byte logical blocks\n').lines).not.toEqual(comparableLog('[ 0.0] virtio_blk virtio0: [vda] 2048 512-byte logical blocks\n').lines);
  });
});
