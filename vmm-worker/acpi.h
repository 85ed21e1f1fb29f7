/*
 * acpi.h - the ACPI tables a Linux guest reads to find its CPUs, interrupt
 * controller and virtio-mmio disks: RSDP (v2), XSDT, FADT (hardware-reduced),
 * MADT, DSDT.  Built into one blob for a fixed guest physical base, which
 * the boot code copies into a reserved (non-RAM) range.
 */
#ifndef VMORCH_ACPI_H
#define VMORCH_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"

#define ACPI_IOAPIC_ADDR	0xfec00000U
#define ACPI_LAPIC_ADDR		0xfee00000U

/*
 * The sleep control/status registers of the hardware-reduced model (ACPI
 * 6.5 §4.8.3.7): a write with SLP_EN set and SLP_TYP 5 (\_S5) powers off.
 */
#define ACPI_SLEEP_CTL_PORT	0x600
#define ACPI_SLEEP_STS_PORT	0x601
#define ACPI_SLP_EN		0x20
#define ACPI_SLP_TYP_SHIFT	2
#define ACPI_SLP_TYP_S5		5

/* FADT's reset register: the i8042's command port and its pulse-reset value. */
#define ACPI_RESET_PORT		0x64
#define ACPI_RESET_VALUE	0xfe

struct acpi_config {
	uint32_t ncpus;		/* Local APIC ids 0 .. ncpus-1 */
	uint32_t ndisks;	/* virtio-mmio windows */
	uint64_t mmio_base;	/* first window */
	uint64_t mmio_stride;
	uint32_t mmio_size;
	uint32_t gsi0;		/* window i interrupts on gsi0 + i */
	uint16_t serial_port;	/* COM1: 0 for none */
	uint8_t serial_irq;
};

/*
 * Write all tables into @buf, laid out for guest physical @base (16-byte
 * aligned); the RSDP comes first, at @base.  *@len gets the bytes used.
 * 0, or -E2BIG with @e set when @cap is too small.
 */
int acpi_build(const struct acpi_config *cfg, uint64_t base, uint8_t *buf,
	       size_t cap, size_t *len, struct verr *e);

/* Sum of @len bytes mod 256: 0 for a table with a right checksum. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
