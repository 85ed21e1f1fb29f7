/*
 * acpi.c - RSDP, XSDT, FADT, MADT and DSDT for a Linux guest (see acpi.h).
 *
 * The machine is "hardware-reduced" ACPI (6.5 §4.1): no PM timer, no SCI,
 * no legacy PIC/PIT for the guest to look for.  Debian's kernel has no
 * MPPARSE, so without the MADT it finds no interrupt controller at all, and
 * virtio_mmio has no command-line devices there: the DSDT's LNRO0005
 * entries are how it finds the disks (the same IDs QEMU's microvm uses).
 */
#include <errno.h>
#include <string.h>

#include "vmm-worker/acpi.h"
#include "vmm-worker/aml.h"

#define ACPI_OEM_ID		"VMORCH"
#define ACPI_OEM_TABLE_ID	"VMORCHVM"
#define ACPI_CREATOR_ID		"VMOR"
#define ACPI_HDR_LEN		36
#define FADT_LEN		276	/* ACPI 6.x */
#define FADT_HW_REDUCED		(1U << 20)
#define FADT_RESET_REG_SUP	(1U << 10)
#define MADT_PCAT_COMPAT	1U
/* IAPC_BOOT_ARCH: no VGA, no CMOS RTC (probing its ports costs Linux seconds). */
#define FADT_BOOT_NO_VGA	(1U << 2)
#define FADT_BOOT_NO_CMOS_RTC	(1U << 5)

struct acpi_out {
	uint8_t *buf;
	size_t cap, len;
	uint64_t base;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

/* Reserve @len bytes (8-byte aligned start); NULL when the blob is full. */
static uint8_t *acpi_alloc(struct acpi_out *o, size_t len, uint64_t *gpa)
{
	size_t at = (o->len + 7) & ~(size_t)7;

	if (at > o->cap || len > o->cap - at)
		return NULL;
	memset(o->buf + at, 0, len);
	o->len = at + len;
	*gpa = o->base + at;
	return o->buf + at;
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put32(t + 24, 1);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put32(t + 32, 1);
}

static void acpi_seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

/* Generic Address Structure (§5.2.3.2): system I/O, byte access. */
static void acpi_gas_io(uint8_t *p, uint16_t port, uint8_t bits)
{
	p[0] = 1;		/* system I/O space */
	p[1] = bits;
	p[2] = 0;
	p[3] = 1;		/* byte access */
	put64(p + 4, port);
}

static void dsdt_serial(struct aml *a, const struct acpi_config *cfg)
{
	aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisa_id(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_resources(a);
	aml_res_io(a, cfg->serial_port, 8);
	aml_res_irq_noflags(a, cfg->serial_irq);
	aml_end_resources(a);
	aml_end(a);
}

/*
 * One virtio-mmio transport (Linux's virtio_mmio matches "LNRO0005").
 * Edge-triggered: the device's irqfd pulses the line, and the driver reads
 * InterruptStatus on every interrupt anyway.
 */
static void dsdt_virtio(struct aml *a, const struct acpi_config *cfg, uint32_t i)
{
	char name[5] = "VR00";

	name[2] = "0123456789ABCDEF"[(i >> 4) & 15];
	name[3] = "0123456789ABCDEF"[i & 15];
	aml_device(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_integer(a, i);
	aml_name(a, "_CCA");	/* cache-coherent DMA */
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_resources(a);
	aml_res_mem32_fixed(a, (uint32_t)(cfg->mmio_base + i * cfg->mmio_stride),
			    cfg->mmio_size, true);
	aml_res_interrupt(a, cfg->gsi0 + i, true, false, false);
	aml_end_resources(a);
	aml_end(a);
}

static int acpi_build_dsdt(struct acpi_out *o, const struct acpi_config *cfg,
			   uint64_t *gpa, struct verr *e)
{
	struct aml a;
	uint8_t *t;
	int rc = 0;

	aml_init(&a);
	aml_scope(&a, "\\_SB_");
	if (cfg->serial_port)
		dsdt_serial(&a, cfg);
	for (uint32_t i = 0; i < cfg->ndisks; i++)
		dsdt_virtio(&a, cfg, i);
	aml_end(&a);
	/* \_S5: the SLP_TYP the guest writes to the sleep control register. */
	aml_name(&a, "\\_S5_");
	aml_package(&a, 2);
	aml_integer(&a, ACPI_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_end(&a);
	if (a.failed || a.depth) {
		verr_set(e, "ACPI: cannot encode the DSDT");
		rc = -ENOMEM;
		goto out;
	}
	t = acpi_alloc(o, ACPI_HDR_LEN + a.len, gpa);
	if (!t) {
		rc = -E2BIG;
		goto out;
	}
	acpi_header(t, "DSDT", (uint32_t)(ACPI_HDR_LEN + a.len), 2);
	memcpy(t + ACPI_HDR_LEN, a.buf, a.len);
	acpi_seal(t, (uint32_t)(ACPI_HDR_LEN + a.len));
out:
	aml_free(&a);
	return rc;
}

static int acpi_build_fadt(struct acpi_out *o, uint64_t dsdt, uint64_t *gpa)
{
	uint8_t *t = acpi_alloc(o, FADT_LEN, gpa);

	if (!t)
		return -E2BIG;
	acpi_header(t, "FACP", FADT_LEN, 6);
	put32(t + 40, (uint32_t)dsdt);
	put16(t + 109, FADT_BOOT_NO_VGA | FADT_BOOT_NO_CMOS_RTC);	/* no 8042 either */
	put32(t + 112, FADT_HW_REDUCED | FADT_RESET_REG_SUP);
	acpi_gas_io(t + 116, ACPI_RESET_PORT, 8);	/* RESET_REG */
	t[128] = ACPI_RESET_VALUE;
	t[131] = 5;					/* minor version: 6.5 */
	put64(t + 140, dsdt);				/* X_DSDT */
	acpi_gas_io(t + 244, ACPI_SLEEP_CTL_PORT, 8);	/* SLEEP_CONTROL_REG */
	acpi_gas_io(t + 256, ACPI_SLEEP_STS_PORT, 8);	/* SLEEP_STATUS_REG */
	memcpy(t + 268, "VMORCH\0\0", 8);		/* hypervisor vendor */
	acpi_seal(t, FADT_LEN);
	return 0;
}

static int acpi_build_madt(struct acpi_out *o, const struct acpi_config *cfg,
			   uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + 8 + cfg->ncpus * 8 + 12 + 10;
	uint8_t *t = acpi_alloc(o, len, gpa), *p;

	if (!t)
		return -E2BIG;
	acpi_header(t, "APIC", len, 5);
	put32(t + 36, ACPI_LAPIC_ADDR);
	put32(t + 40, MADT_PCAT_COMPAT);
	p = t + 44;
	for (uint32_t i = 0; i < cfg->ncpus; i++, p += 8) {
		p[0] = 0;		/* Processor Local APIC */
		p[1] = 8;
		p[2] = (uint8_t)i;	/* ACPI processor UID */
		p[3] = (uint8_t)i;	/* APIC id, as vcpu.c puts in CPUID */
		put32(p + 4, 1);	/* enabled */
	}
	p[0] = 1;			/* I/O APIC: KVM's in-kernel one */
	p[1] = 12;
	p[2] = 0;
	put32(p + 4, ACPI_IOAPIC_ADDR);
	put32(p + 8, 0);		/* GSI base */
	p += 12;
	p[0] = 2;			/* ISA IRQ 0 -> GSI 2, the PC convention */
	p[1] = 10;
	p[3] = 0;
	put32(p + 4, 2);
	put16(p + 8, 0);
	acpi_seal(t, len);
	return 0;
}

static int acpi_build_xsdt(struct acpi_out *o, const uint64_t *tables, int n,
			   uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + 8 * (uint32_t)n;
	uint8_t *t = acpi_alloc(o, len, gpa);

	if (!t)
		return -E2BIG;
	acpi_header(t, "XSDT", len, 1);
	for (int i = 0; i < n; i++)
		put64(t + ACPI_HDR_LEN + 8 * i, tables[i]);
	acpi_seal(t, len);
	return 0;
}

/* RSDP (§5.2.5.3), revision 2: the first checksum covers 20 bytes, the extended one 36. */
static void acpi_fill_rsdp(uint8_t *r, uint64_t xsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, ACPI_OEM_ID, 6);
	r[15] = 2;
	put32(r + 20, 36);
	put64(r + 24, xsdt);
	r[8] = (uint8_t)(0x100 - acpi_checksum(r, 20));
	r[32] = (uint8_t)(0x100 - acpi_checksum(r, 36));
}

int acpi_build(const struct acpi_config *cfg, uint64_t base, uint8_t *buf,
	       size_t cap, size_t *len, struct verr *e)
{
	struct acpi_out o = { .buf = buf, .cap = cap, .base = base };
	uint64_t rsdp, dsdt, tables[2], xsdt;
	uint8_t *r;
	int rc;

	if (cfg->ncpus == 0 || cfg->ncpus > 255) {
		verr_set(e, "ACPI: %u CPUs; the MADT describes 1 to 255", cfg->ncpus);
		return -EINVAL;
	}
	r = acpi_alloc(&o, 36, &rsdp);
	if (!r) {
		rc = -E2BIG;
		goto full;
	}
	if ((rc = acpi_build_dsdt(&o, cfg, &dsdt, e)) == -ENOMEM)
		return rc;
	if (rc || (rc = acpi_build_fadt(&o, dsdt, &tables[0])) ||
	    (rc = acpi_build_madt(&o, cfg, &tables[1])) ||
	    (rc = acpi_build_xsdt(&o, tables, 2, &xsdt)))
		goto full;
	acpi_fill_rsdp(r, xsdt);
	*len = o.len;
	return 0;
full:
	verr_set(e, "ACPI tables do not fit in %zu bytes", cap);
	return rc;
}
