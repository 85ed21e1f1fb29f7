/*
 * entry.S - how the built-in guest starts and everything it runs at CPL 0:
 * the PVH ELF note, the 32-bit entry (%ebx = hvm_start_info), the switch to
 * long mode through page tables and a GDT that are initialized data, the
 * drop to CPL 3 (iretq into guest_main with IOPL 3), the interrupt stubs and
 * the ring-0 service (ring0_call).
 *
 * Why CPL 3: on PVM every CPL-0 instruction is emulated (~1.5 us each) while
 * CPL-3 code runs natively, so everything that can runs in ring 3; ring 0
 * keeps only what must be privileged (lgdt/ltr/lidt, hlt, cr2) and stays
 * a few instructions long.
 */
#include "ring.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define MSR_EFER			0xc0000080
#define EFER_LME			0x100
#define CR4_PAE				0x20
#define CR0_PG_PE			0x80000001
#define PTE_P_RW_US			0x7
#define PDE_P_RW_US_PS			0x87
#define LAPIC_EOI_ADDR			0xfee000b0
#define RFLAGS_USER			0x3002	/* IOPL 3, IF 0 (see below) */

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
	ljmp $SEL_KCODE, $start64

	.code64
start64:
	/* No data segment loads: in 64-bit mode their bases are ignored, and
	 * the iretq below nulls DS/ES/FS/GS for ring 3 anyway.
	 * .bss is not cleared here: PT_LOAD's memsz beyond filesz is zero by
	 * the ELF rules every loader keeps (the IDT starts all not-present). */
	mov $r0_stack_top, %esp
	mov $SEL_TSS, %eax
	ltr %ax
	lidt idt_desc
	/* To guest_main(start_info) at CPL 3, IOPL 3 and the TSS I/O bitmap
	 * (in/out allowed; PVM looks only at the bitmap), IF 0:
	 * interrupts are taken only inside the SVC_WAIT service, so ring-3
	 * code is never interrupted.  The IDT gates are filled in by ring 3
	 * (irq.c): the IDT is ordinary memory, only lidt is privileged. */
	pushq $SEL_UDATA
	pushq $stack_top - 8
	pushq $RFLAGS_USER
	pushq $SEL_UCODE
	pushq $guest_main
	mov %esi, %edi
	iretq

/* Interrupt stubs, 16 bytes apart: isr_stubs + 16 * vector.
 * - exceptions: to irq_dispatch (C, ring 0), which ends the run; the CPU
 *   pushes an error code for some exceptions, the others get a zero;
 * - #UD: the ring-0 service when it is ring0_call's ud2, else as above;
 * - the LAPIC timer: EOI only (it exists to end hlt now and then);
 * - disk vectors: bump irq_count[disk], EOI; ring 3 acknowledges the
 *   device's InterruptStatus after waking (blk.c);
 * - spurious: nothing, not even EOI.
 * All of it is a handful of instructions: at CPL 0 each one is emulated
 * on PVM. */
	.text
	.p2align 4
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.org isr_stubs + 16 * vec	/* errors out if a stub outgrew 16 bytes */
	.if vec == VEC_TIMER
	jmp eoi_iret
	.elseif vec >= VEC_DISK0 && vec < VEC_DISK0 + 32
	incl irq_count + 4 * (vec - VEC_DISK0)(%rip)
	jmp eoi_iret
	.elseif vec == VEC_SPURIOUS
	iretq
	.elseif vec == 6
	jmp ud_entry
	.else
	.if !(vec == 8 || vec == 10 || vec == 11 || vec == 12 || vec == 13 || vec == 14 || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.endif
	.set vec, vec + 1
	.endr
	.org isr_stubs + 16 * 256

eoi_iret:
	push %rax
	xor %eax, %eax
	movabs %eax, LAPIC_EOI_ADDR	/* a plain mov to a 64-bit address */
	pop %rax
	iretq

/* The way from ring 3 into the ring-0 service is a #UD at one known
 * place, ring0_call's ud2 (the handler skips it).  Not "int $0x80": on this
 * machine's PVM a ring-3 "int n" arrives as #UD (measured) and a ring-0 one
 * is beyond its instruction emulator, while #UD reaches the IDT the same
 * way on PVM, KVM and QEMU.
 *   uint32_t ring0_call(uint32_t fn, const volatile uint32_t *p, uint32_t v)
 */
	.globl ring0_call
ring0_call:
	mov %edi, %eax
	mov %rsi, %rdi
	mov %edx, %esi
ring0_ud2:
	ud2
	ret

ud_fault:
	pushq $0
	pushq $6
	jmp isr_common

ud_entry:
	cmpq $ring0_ud2, (%rsp)		/* the saved RIP (no error code) */
	jne ud_fault
	addq $2, (%rsp)
/* The service (an interrupt gate: IF is 0 here).  %eax = function; nothing
 * else is changed.
 *   SVC_WAIT (%rdi = u32 *, %esi = value): if *p still equals the value,
 *     sti; hlt until the next interrupt (the handler runs here, at CPL 0);
 *     the check runs with IF 0 and sti's shadow covers hlt, so an
 *     interrupt cannot slip in between.
 *   SVC_BAD_INSN: load an empty IDT and execute int3 at CPL 0.
 *   SVC_HALT: stop for good. */
svc_entry:
	cmp $SVC_WAIT, %eax
	jne 1f
	cmp %esi, (%rdi)
	jne 2f
	sti
	hlt
2:	iretq
1:	cmp $SVC_BAD_INSN, %eax
	jne 3f
	lidt empty_idt_desc
	int3
3:	cli
	hlt
	jmp 3b

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
 * 0xfeb00000, IOAPIC, LAPIC), user-accessible at every level so ring 3
 * reaches memory and devices; built by the assembler, never written. */
	.section .data.pagetables, "aw"
	.p2align 12
pml4:
	.quad pdpt + PTE_P_RW_US
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P_RW_US
	.quad pd + 0x1000 + PTE_P_RW_US
	.quad pd + 0x2000 + PTE_P_RW_US
	.quad pd + 0x3000 + PTE_P_RW_US
	.fill 508, 8, 0
pd:
	.set pa, 0
	.rept 2048
	.quad pa + PDE_P_RW_US_PS
	.set pa, pa + 0x200000
	.endr

/* Flat 64-bit code and data for ring 0 and ring 3 (accessed bits preset so
 * the CPU never writes them), and the TSS, whose base the linker script
 * splits into the descriptor's fields (ltr sets its busy bit). */
	.data
	.p2align 3
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* SEL_KCODE: 64-bit, DPL 0 */
	.quad 0x00cf93000000ffff	/* SEL_KDATA: DPL 0 */
	.quad 0x00affb000000ffff	/* SEL_UCODE: 64-bit, DPL 3 */
	.quad 0x00cff3000000ffff	/* SEL_UDATA: DPL 3 */
	.word tss_end - tss - 1		/* SEL_TSS: 64-bit available TSS */
	.word __tss_base_0_15
	.byte __tss_base_16_23
	.byte 0x89
	.byte 0
	.byte __tss_base_24_31
	.long __tss_base_32_63
	.long 0
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.p2align 3
	.word 0
idt_desc:
	.word 4095
	.quad idt
	.p2align 3
	.word 0
empty_idt_desc:
	.word 0
	.quad 0

/* 64-bit TSS: RSP0 (the stack for interrupts from ring 3) and an I/O
 * permission bitmap that opens ports 0..0x3ff to ring 3.  IOPL 3 alone is
 * not enough on PVM: there ring 3's in/out are checked against this bitmap
 * (with no bitmap, "out" to the serial port raised #GP). */
	.p2align 4
	.globl tss
tss:
	.long 0
	.quad r0_stack_top		/* RSP0 */
	.fill 2, 8, 0			/* RSP1, RSP2 */
	.quad 0
	.fill 7, 8, 0			/* IST1..7 */
	.quad 0
	.word 0
	.word tss_iomap - tss
tss_iomap:
	.fill 0x400 / 8, 1, 0		/* ports 0..0x3ff allowed */
	.byte 0xff			/* the end marker the CPU wants */
tss_end:

	.bss
	.p2align 12
	.globl idt
idt:
	.skip 4096
	.p2align 4
	.globl irq_count
irq_count:
	.skip 4 * 32
	.p2align 4
r0_stack:
	.skip 16384
r0_stack_top:
	.p2align 4
stack:
	.skip 65536
stack_top:

	.section .note.GNU-stack, "", @progbits
