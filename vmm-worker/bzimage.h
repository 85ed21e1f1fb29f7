/*
 * bzimage.h - Linux's bzImage through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): check the setup header, copy the
 * protected-mode kernel into guest memory and fill the zero page
 * (struct boot_params) it reads at startup_64.
 */
#ifndef VMORCH_BZIMAGE_H
#define VMORCH_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/verr.h"
#include "vmm-worker/guest_mem.h"

#define BZ_HDR_OFF		0x1f1	/* setup header, in the file and the zero page */
#define BZ_MIN_VERSION		0x020c	/* 2.12: xloadflags, the 64-bit entry */
#define BZ_LOADED_HIGH		0x01
#define BZ_XLF_KERNEL_64	0x01
#define BZ_ENTRY64_OFF		0x200	/* startup_64 from the load address */
#define BZ_DEFAULT_LOAD		0x100000ULL
#define BZ_TYPE_OF_LOADER	0xff	/* "undefined", boot.rst's advice */
#define BZ_E820_MAX		128
#define BOOT_PARAMS_SIZE	4096

/* Byte offsets in struct boot_params (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_SENTINEL		0x1ef
#define BP_TYPE_OF_LOADER	0x210
#define BP_LOADFLAGS		0x211
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_E820_TABLE		0x2d0

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;		/* 1 RAM, 2 reserved */
} __attribute__((packed));

/* What the loader needs from the setup header, checked. */
struct bzimage_info {
	uint16_t version;
	uint32_t setup_size;		/* (setup_sects + 1) * 512: file offset of the kernel */
	uint64_t kernel_size;		/* protected-mode kernel bytes in the file */
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;		/* memory the kernel needs from its load address */
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint32_t initrd_addr_max;	/* highest byte an initrd may occupy */
	uint32_t payload_offset;	/* compressed vmlinux, relative to the kernel */
	uint32_t payload_length;
	uint32_t header_len;		/* bytes of setup header from 0x1f1 */
};

/* True when @buf starts like a bzImage ("HdrS" at 0x202). */
bool bzimage_detect(const uint8_t *buf, size_t len);

/*
 * Parse and check the setup header of @buf.  -ENOEXEC with a message for
 * anything that is not a 64-bit bootable bzImage of protocol 2.12 or later.
 */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *bi,
		  struct verr *e);

/*
 * Where to load: pref_address when the kernel is relocatable and
 * init_size fits there, else 1 MiB.  -E2BIG when it fits nowhere.
 */
int bzimage_load_addr(const struct bzimage_info *bi, uint64_t mem_size,
		      uint64_t *addr, struct verr *e);

/* Copy the protected-mode kernel to @addr in guest memory. */
int bzimage_load(const struct guest_mem *mem, const uint8_t *buf,
		 const struct bzimage_info *bi, uint64_t addr, struct verr *e);

/* The zero page's inputs besides the setup header. */
struct bzimage_params {
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa, initrd_size;	/* size 0: none */
	uint64_t rsdp_gpa;
	const struct e820_entry *e820;
	uint32_t ne820;
};

/*
 * Fill the BOOT_PARAMS_SIZE bytes at @zp (host memory): zeroed, the setup
 * header copied from @buf, loader type, command line, initrd, RSDP, e820.
 */
int bzimage_fill_zero_page(uint8_t *zp, const uint8_t *buf,
			   const struct bzimage_info *bi,
			   const struct bzimage_params *p, struct verr *e);

#endif
