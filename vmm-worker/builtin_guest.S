/*
 * builtin_guest.S - embeds the built-in guest's ELF into the worker, so the
 * default job needs no file beside the binary.  The assembler finds the ELF
 * through the include path the build passes (-Wa,-I).
 */
	.section .rodata
	.balign 16
	.global builtin_guest_elf
	.global builtin_guest_elf_end
builtin_guest_elf:
	.incbin "vmorch-guest.elf"
builtin_guest_elf_end:
	.section .note.GNU-stack,"",@progbits
