/*
 * entry.S - how the built-in guest starts: the PVH ELF note, the 32-bit
 * entry (%ebx = hvm_start_info), the switch to long mode through page
 * tables and a GDT that are initialized data, and the interrupt stubs.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define MSR_EFER			0xc0000080
#define EFER_LME			0x100
#define CR4_PAE				0x20
#define CR0_PG_PE			0x80000001
#define PTE_P_RW			0x3
#define PDE_P_RW_PS			0x83

/* PVH: loaders find the 32-bit entry in this note (desc is 8 bytes, as in
 * Linux's vmlinux; the high half is zero). */
	.section .note.Xen, "a"
	.p2align 2
	.long 4
	.long 8
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.p2align 2
	.quad pvh_start32

	.section .text.entry, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	mov %ebx, %esi
	mov $CR4_PAE, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	/* PVM triple-faults on wrmsr EFER, so its VMM sets LME before entry;
	 * write only when it is still clear (QEMU, hardware KVM). */
	mov $MSR_EFER, %ecx
	rdmsr
	test $EFER_LME, %eax
	jnz 1f
	or $EFER_LME, %eax
	wrmsr
1:	mov %cr0, %eax
	or $CR0_PG_PE, %eax
	mov %eax, %cr0
	lgdt gdt_desc
	ljmp $0x08, $start64

	.code64
start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	/* .bss is not cleared here: PT_LOAD's memsz beyond filesz is zero by
	 * the ELF rules every loader keeps, and on PVM each guest instruction
	 * (each rep iteration) costs about a microsecond: clearing 0.5 MiB
	 * took 330 ms. */
	mov $stack_top, %esp
	mov %esi, %edi
	call guest_main
2:	cli
	hlt
	jmp 2b

/* Interrupt stubs, 16 bytes apart: isr_stubs + 16 * vector.  The CPU
 * pushes an error code for these exceptions; the others get a zero. */
	.text
	.p2align 4
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if !(vec == 8 || vec == 10 || vec == 11 || vec == 12 || vec == 13 || vec == 14 || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

/* struct irq_frame in irq.c mirrors this layout. */
isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov %rsp, %rdi
	call irq_dispatch
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp
	iretq

/* Identity map of the first 4 GiB with 2 MiB pages (RAM, virtio-mmio at
 * 0xfeb00000, IOAPIC, LAPIC), built by the assembler, never written. */
	.section .data.pagetables, "aw"
	.p2align 12
pml4:
	.quad pdpt + PTE_P_RW
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P_RW
	.quad pd + 0x1000 + PTE_P_RW
	.quad pd + 0x2000 + PTE_P_RW
	.quad pd + 0x3000 + PTE_P_RW
	.fill 508, 8, 0
pd:
	.set pa, 0
	.rept 2048
	.quad pa + PDE_P_RW_PS
	.set pa, pa + 0x200000
	.endr

/* Flat 64-bit code (0x08) and data (0x10); accessed bits preset so the
 * CPU never writes the table. */
	.data
	.p2align 3
gdt:
	.quad 0
	.quad 0x00af9b000000ffff
	.quad 0x00cf93000000ffff
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.p2align 4
stack:
	.skip 65536
stack_top:

	.section .note.GNU-stack, "", @progbits
