/*
 * bzimage.c - setup header checks, kernel copy and zero page (see
 * bzimage.h).  The file comes from the user: every offset is checked
 * against its length before it is read.
 */
#include <errno.h>
#include <string.h>

#include "vmm-worker/bzimage.h"

/* Setup header fields, as offsets in the file (= offsets in boot_params). */
enum {
	HDR_SETUP_SECTS = 0x1f1, HDR_SYSSIZE = 0x1f4, HDR_BOOT_FLAG = 0x1fe,
	HDR_JUMP = 0x200, HDR_MAGIC = 0x202, HDR_VERSION = 0x206,
	HDR_LOADFLAGS = 0x211, HDR_INITRD_ADDR_MAX = 0x22c,
	HDR_KERNEL_ALIGNMENT = 0x230, HDR_RELOCATABLE = 0x234,
	HDR_XLOADFLAGS = 0x236, HDR_CMDLINE_SIZE = 0x238,
	HDR_PAYLOAD_OFFSET = 0x248, HDR_PAYLOAD_LENGTH = 0x24c,
	HDR_PREF_ADDRESS = 0x258, HDR_INIT_SIZE = 0x260,
	HDR_END_2_12 = 0x268,		/* through init_size and handover_offset */
	HDR_LIMIT = 0x290,		/* boot_params' edd_mbr_sig_buffer starts here */
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

bool bzimage_detect(const uint8_t *buf, size_t len)
{
	return len >= HDR_MAGIC + 4 && memcmp(buf + HDR_MAGIC, "HdrS", 4) == 0;
}

static int bz_check_protocol(const uint8_t *buf, size_t len,
			     struct bzimage_info *bi, struct verr *e)
{
	if (!bzimage_detect(buf, len)) {
		verr_set(e, "not a bzImage (no \"HdrS\" at 0x202)");
		return -ENOEXEC;
	}
	bi->version = rd16(buf + HDR_VERSION);
	if (bi->version < BZ_MIN_VERSION) {
		verr_set(e, "boot protocol %u.%02u is too old; 2.12 or later is needed",
			 bi->version >> 8, bi->version & 0xff);
		return -ENOEXEC;
	}
	/* The header ends where the jump at 0x200 lands: 0x202 + its offset byte. */
	bi->header_len = HDR_MAGIC + buf[HDR_JUMP + 1] - BZ_HDR_OFF;
	if (len < HDR_END_2_12 || BZ_HDR_OFF + bi->header_len > len ||
	    BZ_HDR_OFF + bi->header_len < HDR_END_2_12 ||
	    BZ_HDR_OFF + bi->header_len > HDR_LIMIT) {
		verr_set(e, "truncated or malformed setup header");
		return -ENOEXEC;
	}
	if (rd16(buf + HDR_BOOT_FLAG) != 0xaa55) {
		verr_set(e, "bad boot flag 0x%04x (expected 0xaa55)",
			 rd16(buf + HDR_BOOT_FLAG));
		return -ENOEXEC;
	}
	return 0;
}

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *bi,
		  struct verr *e)
{
	uint32_t setup_sects;
	uint64_t syssize;
	int rc;

	memset(bi, 0, sizeof(*bi));
	rc = bz_check_protocol(buf, len, bi, e);
	if (rc)
		return rc;
	bi->loadflags = buf[HDR_LOADFLAGS];
	bi->xloadflags = rd16(buf + HDR_XLOADFLAGS);
	if (!(bi->loadflags & BZ_LOADED_HIGH)) {
		verr_set(e, "a zImage (not LOADED_HIGH): only bzImage is supported");
		return -ENOEXEC;
	}
	if (!(bi->xloadflags & BZ_XLF_KERNEL_64)) {
		verr_set(e, "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)");
		return -ENOEXEC;
	}
	setup_sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
	bi->setup_size = (setup_sects + 1) * 512;
	syssize = (uint64_t)rd32(buf + HDR_SYSSIZE) * 16;
	if (bi->setup_size >= len || syssize == 0 || syssize > len - bi->setup_size) {
		verr_set(e, "truncated: %zu bytes, the header announces %llu",
			 len, (unsigned long long)(bi->setup_size + syssize));
		return -ENOEXEC;
	}
	bi->kernel_size = len - bi->setup_size;
	bi->relocatable = buf[HDR_RELOCATABLE] != 0;
	bi->kernel_alignment = rd32(buf + HDR_KERNEL_ALIGNMENT);
	bi->pref_address = rd64(buf + HDR_PREF_ADDRESS);
	bi->init_size = rd32(buf + HDR_INIT_SIZE);
	bi->cmdline_size = rd32(buf + HDR_CMDLINE_SIZE);
	bi->initrd_addr_max = rd32(buf + HDR_INITRD_ADDR_MAX);
	bi->payload_offset = rd32(buf + HDR_PAYLOAD_OFFSET);
	bi->payload_length = rd32(buf + HDR_PAYLOAD_LENGTH);
	if (bi->init_size < bi->kernel_size) {
		verr_set(e, "init_size 0x%x is smaller than the kernel (0x%llx bytes)",
			 bi->init_size, (unsigned long long)bi->kernel_size);
		return -ENOEXEC;
	}
	if (bi->payload_length &&
	    (uint64_t)bi->payload_offset + bi->payload_length > bi->kernel_size) {
		verr_set(e, "payload (0x%x + 0x%x) lies outside the kernel",
			 bi->payload_offset, bi->payload_length);
		return -ENOEXEC;
	}
	return 0;
}

int bzimage_load_addr(const struct bzimage_info *bi, uint64_t mem_size,
		      uint64_t *addr, struct verr *e)
{
	uint64_t a = BZ_DEFAULT_LOAD;

	if (bi->relocatable && bi->pref_address >= BZ_DEFAULT_LOAD &&
	    bi->pref_address <= mem_size && bi->init_size <= mem_size - bi->pref_address)
		a = bi->pref_address;
	if (a > mem_size || bi->init_size > mem_size - a) {
		verr_set(e, "kernel needs %u MiB from 0x%llx; the VM has %llu MiB",
			 bi->init_size >> 20, (unsigned long long)a,
			 (unsigned long long)(mem_size >> 20));
		return -E2BIG;
	}
	*addr = a;
	return 0;
}

int bzimage_load(const struct guest_mem *mem, const uint8_t *buf,
		 const struct bzimage_info *bi, uint64_t addr, struct verr *e)
{
	uint8_t *dst = gmem_ptr(mem, addr, bi->init_size);

	if (!dst) {
		verr_set(e, "kernel (0x%x bytes at 0x%llx) does not fit in guest memory",
			 bi->init_size, (unsigned long long)addr);
		return -E2BIG;
	}
	memcpy(dst, buf + bi->setup_size, bi->kernel_size);
	return 0;
}

int bzimage_fill_zero_page(uint8_t *zp, const uint8_t *buf,
			   const struct bzimage_info *bi,
			   const struct bzimage_params *p, struct verr *e)
{
	if (p->ne820 > BZ_E820_MAX) {
		verr_set(e, "%u memory map entries, the zero page holds %d", p->ne820,
			 BZ_E820_MAX);
		return -E2BIG;
	}
	if (p->cmdline_gpa > UINT32_MAX || p->initrd_gpa + p->initrd_size > (1ULL << 32)) {
		verr_set(e, "command line or initrd above 4 GiB");
		return -EINVAL;
	}
	memset(zp, 0, BOOT_PARAMS_SIZE);
	memcpy(zp + BZ_HDR_OFF, buf + BZ_HDR_OFF, bi->header_len);
	zp[BP_TYPE_OF_LOADER] = BZ_TYPE_OF_LOADER;
	zp[BP_LOADFLAGS] = bi->loadflags;
	memcpy(zp + BP_CMD_LINE_PTR, &(uint32_t){ (uint32_t)p->cmdline_gpa }, 4);
	memcpy(zp + BP_RAMDISK_IMAGE, &(uint32_t){ (uint32_t)p->initrd_gpa }, 4);
	memcpy(zp + BP_RAMDISK_SIZE, &(uint32_t){ (uint32_t)p->initrd_size }, 4);
	memcpy(zp + BP_ACPI_RSDP_ADDR, &p->rsdp_gpa, 8);
	zp[BP_E820_ENTRIES] = (uint8_t)p->ne820;
	memcpy(zp + BP_E820_TABLE, p->e820, p->ne820 * sizeof(struct e820_entry));
	return 0;
}
