/*
 * pvh.h - direct boot through the PVH protocol: load an ELF that carries a
 * XEN_ELFNOTE_PHYS32_ENTRY note and describe the machine to it in an
 * hvm_start_info (command line, memory map, RSDP, initramfs module).  The
 * built-in guest and Linux's vmlinux (which carries the same note) use it.
 */
#ifndef VMORCH_PVH_H
#define VMORCH_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"
#include "vmm-worker/guest_mem.h"

#define PVH_START_INFO_MAGIC	0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Fixed low-memory layout (below the 1 MiB the images load at). */
#define PVH_MODLIST_GPA		0x5000ULL
#define PVH_START_INFO_GPA	0x6000ULL
#define PVH_MEMMAP_GPA		0x6100ULL
#define PVH_CMDLINE_GPA		0x7000ULL
#define PVH_CMDLINE_MAX		4095
#define PVH_IMAGE_MIN_GPA	0x100000ULL

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;		/* E820 types: 1 RAM, 2 reserved */
	uint32_t reserved;
};

/* One module (Linux takes the first as its initramfs). */
struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* What a kernel learns at its PVH entry besides the memory map. */
struct pvh_boot_info {
	const char *cmdline;
	uint64_t rsdp_gpa;			/* ACPI RSDP, or 0 */
	uint64_t module_gpa, module_size;	/* initramfs already in RAM; size 0: none */
};

/*
 * Check @elf (an x86-64 ELF with a PVH entry note), copy its PT_LOAD
 * segments into guest memory and return the 32-bit entry point.
 */
int pvh_load_elf(const struct guest_mem *mem, const uint8_t *elf, size_t len,
		 uint32_t *entry, struct verr *e);

/* Write the command line, memory map and start info; returns its address. */
int pvh_write_start_info(const struct guest_mem *mem, const char *cmdline,
			 uint64_t *start_info_gpa, struct verr *e);

/* The same with an RSDP and a module (start info version 1 fields). */
int pvh_write_boot_info(const struct guest_mem *mem, const struct pvh_boot_info *bi,
			uint64_t *start_info_gpa, struct verr *e);

#endif
