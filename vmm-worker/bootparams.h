/*
 * bootparams.h - the low-memory layout of a Linux guest and what the VMM
 * writes there before the first instruction: the memory map (one truth for
 * the zero page's e820 and PVH's memmap), the boot GDT and identity page
 * tables of the 64-bit entry, and where the initramfs goes.
 */
#ifndef VMORCH_BOOTPARAMS_H
#define VMORCH_BOOTPARAMS_H

#include <stdint.h>

#include "common/verr.h"
#include "vmm-worker/bzimage.h"
#include "vmm-worker/guest_mem.h"

/*
 * Guest physical layout below 1 MiB.  PVH's module list, start info, memmap
 * and command line sit at 0x5000-0x7fff (pvh.h); the rest is ours.
 */
#define BOOT_GDT_GPA		0x1000ULL
#define BOOT_PML4_GPA		0x9000ULL	/* then PDPT 0xa000, 4 PDs 0xb000-0xefff */
#define BOOT_ZERO_PAGE_GPA	0x10000ULL
#define BOOT_CMDLINE_GPA	0x20000ULL
#define BOOT_CMDLINE_MAX	4095
#define BOOT_EBDA_GPA		0x9fc00ULL	/* reserved from here to 1 MiB */
#define BOOT_ACPI_GPA		0xe0000ULL	/* inside the reserved range */
#define BOOT_ACPI_SIZE		0x20000ULL
#define BOOT_HIGH_GPA		0x100000ULL

/* Selectors the 64-bit boot protocol requires (__BOOT_CS, __BOOT_DS). */
#define BOOT_CS			0x10
#define BOOT_DS			0x18

#define BOOT_E820_ENTRIES	3

/*
 * RAM below the EBDA, the reserved legacy range (which holds the ACPI
 * tables, so they are never RAM), RAM from 1 MiB to the end of memory.
 */
void boot_e820(uint64_t mem_size, struct e820_entry out[BOOT_E820_ENTRIES]);

/* GDT at BOOT_GDT_GPA and page tables identity-mapping 4 GiB (2 MiB pages). */
int boot_write_long_mode_tables(const struct guest_mem *mem, struct verr *e);

/*
 * Where an initramfs of @size bytes goes: as high as possible, page
 * aligned, below @max_end (exclusive, e.g. initrd_addr_max + 1) and the
 * end of RAM, and above @low_end (the kernel's end).  -E2BIG if it cannot.
 */
int boot_place_initrd(uint64_t mem_size, uint64_t size, uint64_t low_end,
		      uint64_t max_end, uint64_t *gpa, struct verr *e);

#endif
