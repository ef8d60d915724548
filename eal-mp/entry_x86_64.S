/* dpdkmp_enter_entry(entry, sp): enters an executable's entry point (_start) the way the
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
	.section .note.GNU-stack,"",@progbits
