/**
 * Linux's own check of the crypto and NEON instructions: Debian's arm64 kernel loads its
 * CPU-accelerated crypto modules (AES-CE, AES-NEON and bit-sliced NEON, GHASH/GCM and POLYVAL
 * with PMULL, CCM, CRC-T10DIF with PMULL, ChaCha, Poly1305 and NHPoly1305 with NEON, SHA-1-CE,
 * SHA-2-CE and SHA-256 NEON), and the kernel's crypto manager runs each algorithm's self-tests
 * as it registers (testmgr.c; CONFIG_CRYPTO_MANAGER_DISABLE_TESTS is off in Debian's config).
 * Every driver must report `selftest: passed` in /proc/crypto, and the whole report must equal
 * QEMU's (-cpu max) for the same kernel and initramfs.
 *
 * The modules load only because ID_AA64ISAR0_EL1 reports AES = 2, SHA1, SHA2 (and ID_AA64PFR0
 * AdvSIMD): module_cpu_feature_match() refuses them otherwise. Needs the package cache
 * (scripts/fetch-linux-packages) and dist/ (npm run build); skipped with the reason printed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNewc, type CpioEntry } from '../../src/node/initramfs/cpio.js';
import { findDebianKernel, PACKAGE_CACHE, type DebianKernel } from '../../src/node/initramfs/linux-test.js';
import { qemuAvailable, runQemu } from '../support/qemu.js';
import { noteMissingTool } from '../support/reference-tools.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const APPEND = 'console=ttyAMA0 panic=-1 quiet';
const TIMEOUT_MS = 600_000;

/** In load order (each after what it depends on), relative to lib/modules/<version>/kernel. */
const MODULES = [
  'arch/arm64/crypto/sha1-ce', 'arch/arm64/crypto/sha256-arm64', 'arch/arm64/crypto/sha2-ce',
  'arch/arm64/crypto/aes-ce-cipher', 'arch/arm64/crypto/aes-ce-blk', 'arch/arm64/crypto/aes-ce-ccm',
  'arch/arm64/crypto/aes-neon-blk', 'arch/arm64/crypto/aes-neon-bs',
  'crypto/gf128mul', 'arch/arm64/crypto/ghash-ce', 'crypto/crct10dif_common', 'arch/arm64/crypto/crct10dif-ce',
  'lib/crypto/libchacha', 'arch/arm64/crypto/chacha-neon', 'arch/arm64/crypto/poly1305-neon',
  'lib/crypto/libpoly1305', 'crypto/nhpoly1305', 'arch/arm64/crypto/nhpoly1305-neon',
  'crypto/polyval-generic', 'arch/arm64/crypto/polyval-ce',
];
const name = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** Drivers whose self-tests exercise this CPU's AES, SHA, PMULL and NEON instructions. */
const EXPECTED_DRIVERS = [
  'aes-ce', 'ecb-aes-ce', 'cbc-aes-ce', 'ctr-aes-ce', 'xts-aes-ce', 'cts-cbc-aes-ce', 'essiv-cbc-aes-sha256-ce', 'cmac-aes-ce',
  'ccm-aes-ce', 'ecb-aes-neonbs', 'cbc-aes-neonbs', 'ctr-aes-neonbs', 'xts-aes-neonbs', 'gcm-aes-ce', 'polyval-ce',
  'crct10dif-arm64-ce', 'crct10dif-arm64-neon', 'chacha20-neon', 'xchacha20-neon', 'poly1305-neon', 'nhpoly1305-neon',
  'sha1-ce', 'sha224-ce', 'sha256-ce', 'sha256-arm64-neon',
];

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys
/bin/busybox mount -t proc proc /proc
echo "crypto-init: loading modules"
for m in ${MODULES.map(name).join(' ')}; do
  if /bin/busybox insmod /m/$m.ko; then echo "insmod $m ok"; else echo "insmod $m FAILED"; fi
done
echo "crypto-init: module, driver, algorithm, self-test"
/bin/busybox awk '/^name/{n=$3} /^driver/{d=$3} /^module/{m=$3} /^selftest/{ if (m != "kernel") print m, d, n, $3 }' /proc/crypto | /bin/busybox sort
echo "crypto-init: kernel messages about algorithms"
/bin/busybox dmesg | /bin/busybox grep -iE "alg:|self-test|testmgr" | /bin/busybox sed 's/^\\[[^]]*\\] //'
echo "crypto-init: done"
/bin/busybox poweroff -f
`;

function initramfs(kernel: DebianKernel): Uint8Array {
  const file = (path: string, data: Uint8Array, mode = 0o755): CpioEntry => ({ kind: 'file', name: path, mode, data });
  return writeNewc([
    { kind: 'dir', name: 'dev', mode: 0o755 },
    { kind: 'chardev', name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    { kind: 'dir', name: 'bin', mode: 0o755 },
    file('bin/busybox', readFileSync(busybox)),
    file('init', new TextEncoder().encode(INIT)),
    { kind: 'dir', name: 'm', mode: 0o755 },
    ...MODULES.map((path) => file(`m/${name(path)}.ko`, readFileSync(join(kernel.modulesDir, 'kernel', `${path}.ko`)), 0o644)),
  ]);
}

/** The report between /init's first and last lines, line ends as printed by the kernel's tty. */
function report(console: string): string {
  const text = console.replace(/\r\n/g, '\n');
  const from = text.indexOf('crypto-init: loading modules');
  const to = text.indexOf('crypto-init: done');
  if (from < 0 || to < 0) throw new Error(`no crypto report in the console output:\n${text.slice(-3000)}`);
  return text.slice(from, to);
}

const kernel = findDebianKernel(ROOT);
const busybox = join(ROOT, PACKAGE_CACHE, 'root/bin/busybox');
const skipReason = typeof kernel === 'string' ? kernel : existsSync(busybox) ? null : `${busybox} is missing (scripts/fetch-linux-packages)`;
if (skipReason) console.log(`test/linux/crypto-modules.test.ts skipped: ${skipReason}`);
noteMissingTool('linux', skipReason === null); // accounted in the end-of-run summary (test/global-setup.ts)

describe.skipIf(skipReason !== null)("Linux's crypto self-tests on Tagvisor's AES, SHA, PMULL and NEON", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagvisor-crypto-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let tagvisorReport = '';

  it('every module loads and every driver passes its self-tests', { timeout: TIMEOUT_MS }, async () => {
    const k = kernel as DebianKernel;
    const initrd = join(dir, 'initrd.cpio');
    writeFileSync(initrd, initramfs(k));
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'run', '-m', '256M', '--kernel', k.image, '--initrd', initrd, '--append', APPEND, '--no-reboot'], {
      maxBuffer: 16 << 20,
      timeout: TIMEOUT_MS,
    });
    tagvisorReport = report(stdout);
    for (const m of MODULES) expect(tagvisorReport).toContain(`insmod ${name(m)} ok`);
    const drivers = new Map(
      tagvisorReport
        .split('\n')
        .map((line) => line.split(' '))
        .filter((f) => f.length === 4)
        .map((f) => [f[1]!, f[3]!] as const),
    );
    for (const driver of EXPECTED_DRIVERS) expect(drivers.get(driver), driver).toBe('passed');
    expect(tagvisorReport).not.toMatch(/failed|FAILED/);
  });

  it.runIf(qemuAvailable())('the report equals QEMU -cpu max', { timeout: TIMEOUT_MS }, async () => {
    if (!tagvisorReport) expect.fail('the Tagvisor run did not produce a report');
    const k = kernel as DebianKernel;
    const run = await runQemu(k.image, { timeoutMs: TIMEOUT_MS, extraArgs: ['-no-reboot', '-initrd', join(dir, 'initrd.cpio'), '-append', APPEND] });
    expect(report(run.stdout.toString('latin1'))).toBe(tagvisorReport);
  });
});
