/* entry_x86_64.S: the two functions that must not be C.
 *
 * dpdkmp_enter_entry(entry, sp): enters an executable's entry point (_start) the way the
 * kernel does, on the prepared stack sp, so that _start hands us main through the
 * interposed __libc_start_main. Written in assembly so that it cannot depend on register
 * allocation: %rdx must be 0 (no rtld_fini) and nothing else may be live. */
	.text
	.globl	dpdkmp_enter_entry
	.hidden	dpdkmp_enter_entry
	.type	dpdkmp_enter_entry, @function
dpdkmp_enter_entry:
	.cfi_startproc
	mov	%rsi, %rsp
	xor	%edx, %edx
	xor	%ebp, %ebp
	jmp	*%rdi
	.cfi_endproc
	.size	dpdkmp_enter_entry, .-dpdkmp_enter_entry

/* dlopen(path, mode): the plugins' dlopen shortcut (shortcuts.c), then glibc's dlopen entered
 * by a jump, so that it sees the caller's return address as if called directly: glibc
 * resolves a name without a slash with the calling object's RUNPATH, and a C wrapper would
 * make that libdpdkmp's. */
	.hidden	dpdkmp_dlopen_shortcut
	.hidden	dpdkmp_real_dlopen
	.globl	dlopen
	.type	dlopen, @function
dlopen:
	.cfi_startproc
	push	%rdi
	.cfi_adjust_cfa_offset 8
	push	%rsi
	.cfi_adjust_cfa_offset 8
	sub	$8, %rsp
	.cfi_adjust_cfa_offset 8
	call	dpdkmp_dlopen_shortcut
	add	$8, %rsp
	.cfi_adjust_cfa_offset -8
	pop	%rsi
	.cfi_adjust_cfa_offset -8
	pop	%rdi
	.cfi_adjust_cfa_offset -8
	test	%rax, %rax
	jz	1f
	ret
1:	jmp	*dpdkmp_real_dlopen(%rip)
	.cfi_endproc
	.size	dlopen, .-dlopen
	.section .note.GNU-stack,"",@progbits
