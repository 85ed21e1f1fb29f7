/*
 * irq.c - interrupts: the IDT's 64-bit interrupt gates (exceptions end the
 * run with a readable reason instead of a triple fault), the 8259s masked,
 * the LAPIC (enable, a periodic timer that bounds every hlt) and IOAPIC
 * routing of each disk's virtio-mmio IRQ, edge-triggered, active high.
 * All of it runs at CPL 3: the IDT (loaded by entry.S), LAPIC and IOAPIC
 * are ordinary memory and MMIO, the PIC ports are open through the TSS I/O
 * bitmap.  Only the handlers (entry.S stubs, irq_dispatch) run at CPL 0.
 */
#include "guest.h"

#define LAPIC_BASE		0xfee00000u
#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_SVR		0x0f0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_DIV		0x3e0
#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_TIMER_PERIODIC	(1u << 17)
#define IOAPIC_BASE		0xfec00000u
#define IOAPIC2_BASE		0xfec10000u	/* microvm's second IOAPIC, GSI 24+ */
#define IOAPIC_PINS		24
#define PIC1_DATA		0x21
#define PIC2_DATA		0xa1

/* Mirrors the pushes in entry.S's isr_common. */
struct irq_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

extern char isr_stubs[];
extern struct idt_gate idt[256];	/* entry.S: in .bss, loaded at boot */
void irq_dispatch(struct irq_frame *f);

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base, reg);	/* IOREGSEL */
	mmio_write32(base + 0x10, v);	/* IOWIN */
}

/* A present 64-bit interrupt gate (IF cleared on entry, DPL 0) to the
 * vector's stub. */
static void idt_set(unsigned v)
{
	uint64_t a = (uintptr_t)(isr_stubs + 16 * v);

	idt[v] = (struct idt_gate){
		.off_lo = (uint16_t)a, .sel = SEL_KCODE, .type = 0x8e,
		.off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32),
	};
}

/* Exceptions (#UD is also the way into the ring-0 service) at boot; the
 * interrupt vectors when they are used.  Vector 3 gets a gate too:
 * hostile=bad_insn executes int3 through the service, after loading an
 * empty IDT. */
void irq_init(void)
{
	for (unsigned v = 0; v < 32; v++)
		idt_set(v);
}

/* Both 8259s masked (the VMM's in-kernel PIC, never initialised, would
 * deliver a disk's GSI 5 as vector 5); LAPIC on, and a periodic timer
 * (~17 ms at the 1 GHz APIC clock of KVM and QEMU) so that hlt always
 * wakes up to check its deadline. */
void irq_start_controllers(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	idt_set(VEC_TIMER);
	idt_set(VEC_SPURIOUS);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_TIMER_DIV, 0x3);	/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 1u << 20);
}

void irq_route_disk(struct disk *d)
{
	uintptr_t base = d->irq < IOAPIC_PINS ? IOAPIC_BASE : IOAPIC2_BASE;
	uint32_t pin = d->irq % IOAPIC_PINS;
	uint32_t apic_id = mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24;

	d->vector = (uint8_t)(VEC_DISK0 + d->index);
	idt_set(d->vector);
	ioapic_write(base, 0x11 + 2 * pin, apic_id << 24);
	ioapic_write(base, 0x10 + 2 * pin, d->vector);	/* fixed, edge, high, unmasked */
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* CPU exceptions (in ring 3 or ring 0), at CPL 0: the run ends here.
 * The timer, disk and spurious vectors have their own stubs in entry.S. */
void irq_dispatch(struct irq_frame *f)
{
	guest_in_ring0 = true;
	fail("exception %lu at rip %lx error %lx cr2 %lx",
	     (unsigned long)f->vector, (unsigned long)f->rip,
	     (unsigned long)f->error, (unsigned long)read_cr2());
	guest_finish(-1);
}
