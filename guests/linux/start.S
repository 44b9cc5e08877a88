// Entry point and system call stub of Tagvisor's Linux test /init (docs/linux.md, "The initramfs").
// No libc: the kernel enters _start with sp at argc; init_main never returns (it powers off).
	.text
	.global _start
	.type _start, %function
_start:
	mov	x29, #0
	mov	x30, #0
	bl	init_main
1:	b	1b

// long syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5): the AArch64 Linux
// ABI takes the number in x8 and the arguments in x0-x5, and returns in x0 (-errno on failure).
	.global syscall6
	.type syscall6, %function
syscall6:
	mov	x8, x0
	mov	x0, x1
	mov	x1, x2
	mov	x2, x3
	mov	x3, x4
	mov	x4, x5
	mov	x5, x6
	svc	#0
	ret
	.section .note.GNU-stack, "", %progbits
