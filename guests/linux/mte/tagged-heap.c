/*
 * tagged-heap: the smallest MTE-tagged heap that catches a use-after-free (docs/linux.md, "The MTE
 * initramfs"). Every block gets a random allocation tag (IRG) on its 16-byte granules (STG) and is
 * handed out through a pointer carrying the same tag in bits 59:56; free() gives the granules a
 * different tag, so a dangling pointer no longer matches its memory and, with synchronous tag
 * checking (PR_MTE_TCF_SYNC), its next load faults: SIGSEGV with si_code SEGV_MTESERR.
 *
 * Static glibc, built by scripts/build-linux-mte-initramfs with -march=armv8.5-a+memtag.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Linux uapi values, in case the cross headers predate MTE. */
#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif
#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1UL << 18)
#endif
#ifndef SEGV_MTESERR
#define SEGV_MTESERR 9
#endif
#ifndef PR_SET_TAGGED_ADDR_CTRL
#define PR_SET_TAGGED_ADDR_CTRL 55
#define PR_TAGGED_ADDR_ENABLE (1UL << 0)
#endif
#ifndef PR_MTE_TCF_SYNC
#define PR_MTE_TCF_SYNC (1UL << 1)
#define PR_MTE_TAG_SHIFT 3
#endif

#define GRANULE 16
#define ARENA_BYTES 4096

static unsigned char *arena;
static size_t arena_used;

static unsigned tag_of(const void *p) { return (unsigned)((uintptr_t)p >> 56) & 0xf; }

/* A pointer with a random tag other than those in `exclude` (a 16-bit mask), chosen by IRG. */
static void *random_tag(void *p, uint64_t exclude) {
  void *tagged;
  __asm__("irg %0, %1, %2" : "=r"(tagged) : "r"(p), "r"(exclude));
  return tagged;
}

/* Sets the allocation tag of each granule of [p, p + bytes) to p's tag. */
static void set_tags(void *p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += GRANULE) __asm__ volatile("stg %0, [%0]" : : "r"((char *)p + off) : "memory");
}

static void *tagged_malloc(size_t bytes) {
  bytes = (bytes + GRANULE - 1) & ~(size_t)(GRANULE - 1);
  if (arena_used + bytes > ARENA_BYTES) return NULL;
  void *block = random_tag(arena + arena_used, 1); /* never tag 0: untagged pointers must not match */
  arena_used += bytes;
  set_tags(block, bytes);
  return block;
}

/*
 * Retags the block (not 0, not its old tag), so every pointer to it goes stale. Not inlined: a
 * debugger can stop at its entry with the block's tagged pointer in x0 (docs/linux.md, gdb).
 */
__attribute__((noinline)) static void tagged_free(void *block, size_t bytes) {
  bytes = (bytes + GRANULE - 1) & ~(size_t)(GRANULE - 1);
  set_tags(random_tag(block, 1u | 1u << tag_of(block)), bytes);
}

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void on_tag_fault(int sig, siginfo_t *info, void *context) {
  (void)context;
  char line[160];
  /* snprintf is not async-signal-safe in general; this handler only runs once and then exits. */
  snprintf(line, sizeof line, "tagged-heap: caught signal %d (%s), si_code %d (%s), fault address %p\n", sig,
           sig == SIGSEGV ? "SIGSEGV" : "?", info->si_code, info->si_code == SEGV_MTESERR ? "SEGV_MTESERR" : "?",
           info->si_addr);
  say(line);
  _exit(info->si_code == SEGV_MTESERR ? 0 : 1);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!(getauxval(AT_HWCAP2) & HWCAP2_MTE)) {
    puts("tagged-heap: this CPU or kernel has no MTE for user space (HWCAP2_MTE)");
    return 1;
  }
  /* Tagged addresses on, synchronous tag-check faults, IRG may pick tags 1..15. */
  if (prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC | (0xfffeUL << PR_MTE_TAG_SHIFT), 0, 0, 0)) {
    perror("tagged-heap: prctl(PR_SET_TAGGED_ADDR_CTRL)");
    return 1;
  }
  arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) {
    perror("tagged-heap: mmap(PROT_MTE)");
    return 1;
  }
  struct sigaction action = { .sa_sigaction = on_tag_fault, .sa_flags = SA_SIGINFO };
  sigaction(SIGSEGV, &action, NULL);

  char *name = tagged_malloc(32);
  strcpy(name, "tagged hello");
  printf("tagged-heap: malloc(32) = %p (tag %u), holds \"%s\"\n", (void *)name, tag_of(name), name);
  tagged_free(name, 32);
  printf("tagged-heap: free() gave its granules a new allocation tag\n");
  printf("tagged-heap: reading the freed pointer %p ...\n", (void *)name);
  volatile char first = name[0]; /* use after free: the pointer's tag no longer matches */
  printf("tagged-heap: no fault, read '%c': MTE did not catch the use after free\n", first);
  return 1;
}
