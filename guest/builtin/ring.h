/*
 * ring.h - the privilege split, shared by entry.S and the C side: GDT
 * selectors, the vectors with their own stubs, and the functions of the
 * ring-0 service (ring0_call in entry.S) that ring-3 code calls for the
 * few privileged things it needs.  Plain #defines only: included by
 * assembly.
 */
#ifndef GUEST_RING_H
#define GUEST_RING_H

#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_UCODE	(0x18 | 3)
#define SEL_UDATA	(0x20 | 3)
#define SEL_TSS		0x28

#define VEC_TIMER	0x20
#define VEC_DISK0	0x30		/* + disk index, 32 of them */
#define VEC_SPURIOUS	0xff

#define SVC_WAIT	1
#define SVC_BAD_INSN	2
#define SVC_HALT	3

#endif
