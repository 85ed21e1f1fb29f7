/*
 * irq.c - interrupts: an IDT of 64-bit interrupt gates (exceptions end the
 * run with a readable reason instead of a triple fault), the LAPIC (enable,
 * EOI, a periodic timer that bounds every hlt) and IOAPIC routing of each
 * disk's virtio-mmio IRQ, edge-triggered, active high.
 */
#include "guest.h"

#define LAPIC_BASE		0xfee00000u
#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_DIV		0x3e0
#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_TIMER_PERIODIC	(1u << 17)
#define IOAPIC_BASE		0xfec00000u
#define IOAPIC2_BASE		0xfec10000u	/* microvm's second IOAPIC, GSI 24+ */
#define IOAPIC_PINS		24

#define VEC_TIMER		0x20
#define VEC_DISK0		0x30
#define VEC_SPURIOUS		0xff

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

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char isr_stubs[];
void irq_dispatch(struct irq_frame *f);

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct disk *vector_disk[MAX_DISKS];

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base, reg);	/* IOREGSEL */
	mmio_write32(base + 0x10, v);	/* IOWIN */
}

static void idt_set(unsigned v)
{
	uint64_t a = (uintptr_t)(isr_stubs + 16 * v);

	idt[v] = (struct idt_gate){
		.off_lo = (uint16_t)a, .sel = 0x08, .type = 0x8e,
		.off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32),
	};
}

/* Exceptions only at boot; the interrupt vectors when they are used
 * (each gate costs instructions, and instructions are slow on PVM). */
void irq_init(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uintptr_t)idt };

	for (unsigned v = 0; v < 32; v++)
		idt_set(v);
	__asm__ volatile("lidt %0" : : "m"(p));
}

void idt_clear(void)
{
	struct idt_ptr p = { 0, 0 };

	__asm__ volatile("lidt %0" : : "m"(p));
}

/* LAPIC on, and a periodic timer (~17 ms at the 1 GHz APIC clock of KVM
 * and QEMU) so that hlt always wakes up to check its deadline. */
void irq_start_controllers(void)
{
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
	vector_disk[d->index] = d;
	ioapic_write(base, 0x11 + 2 * pin, apic_id << 24);
	ioapic_write(base, 0x10 + 2 * pin, d->vector);	/* fixed, edge, high, unmasked */
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void irq_dispatch(struct irq_frame *f)
{
	uint64_t v = f->vector;

	if (v < 32) {
		fail("exception %lu at rip %lx error %lx cr2 %lx", (unsigned long)v,
		     (unsigned long)f->rip, (unsigned long)f->error,
		     (unsigned long)read_cr2());
		guest_finish(-1);
	}
	if (v == VEC_SPURIOUS)
		return;
	if (v >= VEC_DISK0 && v < VEC_DISK0 + MAX_DISKS && vector_disk[v - VEC_DISK0]) {
		struct disk *d = vector_disk[v - VEC_DISK0];

		if (vmmio_irq_ack(d))
			d->irqs++;
	}
	lapic_write(LAPIC_EOI, 0);
}
