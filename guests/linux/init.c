/*
 * Tagvisor's Linux test /init (docs/linux.md, "The initramfs"): a static program without libc that
 * the boot test runs as PID 1 on Tagvisor and on QEMU. It mounts devtmpfs, prints a banner, loads
 * the virtio modules Debian builds as modules, reads the first sector of /dev/vda, writes a line
 * to the virtio console /dev/hvc0 and reads one from it, and powers off. Every line starts with
 * "init: " and depends on nothing but the disk's and the host's input, so two logs compare.
 */
#include "sys.h"

#define SECTOR 512

/* Loaded in this order: the transport first, so the drivers find their devices at once. */
static const char *const modules[] = {
    "/lib/modules/virtio_mmio.ko",
    "/lib/modules/virtio_blk.ko",
    "/lib/modules/virtio_console.ko",
};

static unsigned long length(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

static void put(const char *s) { sys_write(1, s, length(s)); }

static void put_hex(unsigned long value, int digits) {
  char buf[16];
  for (int i = digits - 1; i >= 0; i--) {
    buf[i] = "0123456789abcdef"[value & 15];
    value >>= 4;
  }
  sys_write(1, buf, (unsigned long)digits);
}

static void put_dec(long value) {
  char buf[24];
  int i = sizeof buf;
  unsigned long v = value < 0 ? (unsigned long)-value : (unsigned long)value;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (value < 0) buf[--i] = '-';
  sys_write(1, buf + i, sizeof buf - (unsigned long)i);
}

/* Prints "init: <what> failed: errno N" for a negative system call result; returns it. */
static long check(long result, const char *what) {
  if (result < 0) {
    put("init: ");
    put(what);
    put(" failed: errno ");
    put_dec(-result);
    put("\n");
  }
  return result;
}

static void load_module(const char *path) {
  long fd = check(sys_openat(path, O_RDONLY | O_CLOEXEC), path);
  if (fd < 0) return;
  if (check(sys_finit_module(fd, "", 0), path) == 0) {
    put("init: loaded ");
    put(path);
    put("\n");
  }
  sys_close(fd);
}

/* Reads exactly n bytes unless the file ends or an error occurs; returns what it read or -errno. */
static long read_full(long fd, unsigned char *buf, unsigned long n) {
  unsigned long done = 0;
  while (done < n) {
    long r = sys_read(fd, buf + done, n - done);
    if (r == -EINTR) continue;
    if (r < 0) return r;
    if (r == 0) break;
    done += (unsigned long)r;
  }
  return (long)done;
}

/* The first sector of /dev/vda: its first 32 bytes (printable ASCII, others as '.') and FNV-1a. */
static void read_disk(void) {
  static unsigned char sector[SECTOR];
  long fd = check(sys_openat("/dev/vda", O_RDONLY | O_CLOEXEC), "open /dev/vda");
  if (fd < 0) return;
  long n = check(read_full(fd, sector, SECTOR), "read /dev/vda");
  sys_close(fd);
  if (n < 0) return;
  unsigned int hash = 2166136261u;
  for (long i = 0; i < n; i++) hash = (hash ^ sector[i]) * 16777619u;
  char text[32];
  for (int i = 0; i < 32; i++) text[i] = (i < n && sector[i] >= 0x20 && sector[i] < 0x7f) ? (char)sector[i] : '.';
  put("init: /dev/vda sector 0: ");
  put_dec(n);
  put(" bytes, \"");
  sys_write(1, text, sizeof text);
  put("\", fnv1a32 ");
  put_hex(hash, 8);
  put("\n");
}

/* Opens /dev/hvc0, waiting up to 2 s: see use_virtio_console. */
static long open_hvc0(void) {
  long fd = sys_openat("/dev/hvc0", O_RDWR | O_CLOEXEC);
  for (int tries = 0; (fd == -ENOENT || fd == -ENODEV) && tries < 200; tries++) {
    sys_sleep_ms(10);
    fd = sys_openat("/dev/hvc0", O_RDWR | O_CLOEXEC);
  }
  return check(fd, "open /dev/hvc0");
}

/*
 * Reads one line (the tty is in canonical mode: a read returns at most one line) without its
 * newline; returns its length. Blocks until the host sends one.
 */
static long read_line(long fd, char *buf, unsigned long size) {
  long n;
  do n = sys_read(fd, buf, size);
  while (n == -EINTR);
  if (n > 0 && buf[n - 1] == '\n') n--;
  return n;
}

/*
 * The virtio console, both ways: a line to the host, and a line from it, printed on the UART
 * console. A multiport console (QEMU's virtio-serial) adds its ports from a work queue after the
 * module loaded, so /dev/hvc0 may be missing (ENOENT) or not yet backed by a port (ENODEV) for a
 * moment. The host should send its line once it sees "wrote a line" on the UART: a line sent
 * while the driver still sets the port up can be lost (it was, on Tagvisor's console, which has
 * no multiport). The tty echoes the host's line back, so the host gets ours and its own.
 */
static void use_virtio_console(void) {
  static const char line[] = "init: hello on hvc0\n";
  long fd = open_hvc0();
  if (fd < 0) return;
  if (check(sys_write(fd, line, sizeof line - 1), "write /dev/hvc0") == (long)(sizeof line - 1)) put("init: wrote a line to /dev/hvc0\n");
  char input[64];
  long n = check(read_line(fd, input, sizeof input), "read /dev/hvc0");
  if (n >= 0) {
    put("init: read from /dev/hvc0: \"");
    sys_write(1, input, (unsigned long)n);
    put("\"\n");
  }
  sys_close(fd);
}

void init_main(void) {
  put("init: Tagvisor test init, pid 1\n");
  long r = sys_mkdir("/dev", 0755);
  if (r != -EEXIST) check(r, "mkdir /dev");
  if (check(sys_mount("devtmpfs", "/dev", "devtmpfs", 0, 0), "mount devtmpfs") == 0) put("init: mounted devtmpfs on /dev\n");
  for (unsigned long i = 0; i < sizeof modules / sizeof modules[0]; i++) load_module(modules[i]);
  read_disk();
  use_virtio_console();
  put("init: powering off\n");
  check(sys_reboot(LINUX_REBOOT_CMD_POWER_OFF), "reboot");
  sys_exit(1); /* Only if reboot failed: the kernel then panics, which the test reports. */
}
