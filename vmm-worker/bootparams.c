/*
 * bootparams.c - memory map, boot GDT, identity page tables and initramfs
 * placement for Linux guests (see bootparams.h).
 */
#include <errno.h>
#include <string.h>

#include "vmm-worker/bootparams.h"

#define PAGE_PRESENT	0x1ULL
#define PAGE_RW		0x2ULL
#define PAGE_PS		0x80ULL	/* 2 MiB page in a PD entry */

void boot_e820(uint64_t mem_size, struct e820_entry out[BOOT_E820_ENTRIES])
{
	out[0] = (struct e820_entry){ 0, BOOT_EBDA_GPA, 1 };
	out[1] = (struct e820_entry){ BOOT_EBDA_GPA, BOOT_HIGH_GPA - BOOT_EBDA_GPA, 2 };
	out[2] = (struct e820_entry){ BOOT_HIGH_GPA, mem_size - BOOT_HIGH_GPA, 1 };
}

int boot_write_long_mode_tables(const struct guest_mem *mem, struct verr *e)
{
	/* null, null, __BOOT_CS (64-bit code), __BOOT_DS (flat data). */
	static const uint64_t gdt[4] = {
		0, 0, 0x00af9a000000ffffULL, 0x00cf92000000ffffULL,
	};
	uint64_t *pml4 = gmem_ptr(mem, BOOT_PML4_GPA, 4096 * 6);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
	void *g = gmem_ptr(mem, BOOT_GDT_GPA, sizeof(gdt));

	if (!pml4 || !g) {
		verr_set(e, "guest memory too small for the boot page tables");
		return -E2BIG;
	}
	memcpy(g, gdt, sizeof(gdt));
	memset(pml4, 0, 4096 * 6);
	pml4[0] = (BOOT_PML4_GPA + 0x1000) | PAGE_PRESENT | PAGE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PML4_GPA + 0x2000 + i * 0x1000) | PAGE_PRESENT | PAGE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PAGE_PRESENT | PAGE_RW | PAGE_PS;
	return 0;
}

int boot_place_initrd(uint64_t mem_size, uint64_t size, uint64_t low_end,
		      uint64_t max_end, uint64_t *gpa, struct verr *e)
{
	uint64_t top = max_end < mem_size ? max_end : mem_size;
	uint64_t at;

	top &= ~0xfffULL;
	if (size > top || (at = (top - size) & ~0xfffULL) < low_end) {
		verr_set(e, "initramfs of %llu KiB does not fit between the kernel "
			 "(ends at 0x%llx) and 0x%llx; give the VM more memory",
			 (unsigned long long)(size >> 10), (unsigned long long)low_end,
			 (unsigned long long)top);
		return -E2BIG;
	}
	*gpa = at;
	return 0;
}
