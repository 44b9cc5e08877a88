/* The few Linux system calls /init uses (AArch64 numbers, include/uapi/asm-generic/unistd.h). */
#ifndef TAGVISOR_INIT_SYS_H
#define TAGVISOR_INIT_SYS_H

long syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

#define SYS_mkdirat 34
#define SYS_mount 40
#define SYS_openat 56
#define SYS_close 57
#define SYS_read 63
#define SYS_write 64
#define SYS_exit 93
#define SYS_nanosleep 101
#define SYS_reboot 142
#define SYS_finit_module 273

#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CLOEXEC 02000000
#define ENOENT 2
#define EEXIST 17
#define ENODEV 19
#define EINTR 4

#define LINUX_REBOOT_MAGIC1 0xfee1dead
#define LINUX_REBOOT_MAGIC2 672274793
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

static inline long sys_openat(const char *path, long flags) { return syscall6(SYS_openat, AT_FDCWD, (long)path, flags, 0, 0, 0); }
static inline long sys_close(long fd) { return syscall6(SYS_close, fd, 0, 0, 0, 0, 0); }
static inline long sys_read(long fd, void *buf, unsigned long n) { return syscall6(SYS_read, fd, (long)buf, (long)n, 0, 0, 0); }
static inline long sys_write(long fd, const void *buf, unsigned long n) { return syscall6(SYS_write, fd, (long)buf, (long)n, 0, 0, 0); }
static inline long sys_mkdir(const char *path, long mode) { return syscall6(SYS_mkdirat, AT_FDCWD, (long)path, mode, 0, 0, 0); }
static inline long sys_mount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data) {
  return syscall6(SYS_mount, (long)src, (long)dst, (long)type, (long)flags, (long)data, 0);
}
static inline long sys_finit_module(long fd, const char *params, long flags) { return syscall6(SYS_finit_module, fd, (long)params, flags, 0, 0, 0); }
static inline long sys_reboot(long cmd) { return syscall6(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, 0, 0, 0); }
static inline void sys_sleep_ms(long ms) {
  long ts[2] = {ms / 1000, (ms % 1000) * 1000000};
  syscall6(SYS_nanosleep, (long)ts, 0, 0, 0, 0, 0);
}
static inline void sys_exit(long code) { syscall6(SYS_exit, code, 0, 0, 0, 0, 0); }

#endif
