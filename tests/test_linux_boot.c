/*
 * test_linux_boot.c - booting Linux, the parts that need no VM: the
 * bzImage setup header (Debian's real kernel and hand-made images,
 * truncated and foreign files), the zero page and its e820 table, the
 * boot page tables, initramfs placement, and the PVH start info with its
 * initramfs module and RSDP.
 *
 * The Debian kernel comes from scripts/fetch-test-kernel.sh; when it cannot
 * be fetched those tests skip, or fail if CI or VMORCH_REQUIRE_KVM is set.
 */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm-worker/bootparams.h"
#include "vmm-worker/bzimage.h"
#include "vmm-worker/pvh.h"

#define MiB (1ULL << 20)

/* ---- a hand-made bzImage: 1 setup sector + boot sector, 4 KiB kernel ---- */

#define FAKE_SETUP	1024
#define FAKE_KERNEL	4096
#define FAKE_LEN	(FAKE_SETUP + FAKE_KERNEL)

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

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void fake_bzimage(uint8_t *b)
{
	memset(b, 0, FAKE_LEN);
	b[0x1f1] = 1;				/* setup_sects */
	put32(b + 0x1f4, FAKE_KERNEL / 16);	/* syssize */
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x66;			/* header runs to 0x268 */
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x020f);
	b[0x211] = 0x01;			/* LOADED_HIGH */
	put32(b + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	put32(b + 0x230, 0x200000);		/* kernel_alignment */
	b[0x234] = 1;				/* relocatable */
	put16(b + 0x236, 0x0003);		/* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put32(b + 0x238, 2047);			/* cmdline_size */
	put32(b + 0x248, 0x100);		/* payload_offset */
	put32(b + 0x24c, 0x200);		/* payload_length */
	put32(b + 0x258, 0x1000000);		/* pref_address */
	put32(b + 0x260, 0x10000);		/* init_size */
	memset(b + FAKE_SETUP, 0x90, FAKE_KERNEL);
}

static void expect_refused(const uint8_t *b, size_t len, const char *msg)
{
	struct bzimage_info bi;
	struct verr e = { "" };

	assert_int_equal(bzimage_parse(b, len, &bi, &e), -ENOEXEC);
	assert_string_equal(e.msg, msg);
}

/* Every header field the loader uses comes out of a well-formed image. */
static void test_fake_bzimage_parses(void **state)
{
	static uint8_t b[FAKE_LEN];
	struct bzimage_info bi;

	fake_bzimage(b);
	assert_true(bzimage_detect(b, sizeof(b)));
	assert_int_equal(bzimage_parse(b, sizeof(b), &bi, NULL), 0);
	assert_int_equal(bi.version, 0x020f);
	assert_int_equal(bi.setup_size, 1024);
	assert_int_equal(bi.kernel_size, 4096);
	assert_true(bi.relocatable);
	assert_int_equal(bi.kernel_alignment, 0x200000);
	assert_int_equal(bi.pref_address, 0x1000000);
	assert_int_equal(bi.init_size, 0x10000);
	assert_int_equal(bi.cmdline_size, 2047);
	assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bi.payload_offset, 0x100);
	assert_int_equal(bi.payload_length, 0x200);
	assert_int_equal(bi.header_len, 0x268 - 0x1f1);
}

/* Cut short anywhere: refused with what the header announced. */
static void test_truncated_refused(void **state)
{
	static uint8_t b[FAKE_LEN];

	fake_bzimage(b);
	expect_refused(b, FAKE_SETUP + 100, "truncated: 1124 bytes, the header announces 5120");
	expect_refused(b, FAKE_SETUP, "truncated: 1024 bytes, the header announces 5120");
	expect_refused(b, 0x250, "truncated or malformed setup header");
	expect_refused(b, 0x204, "not a bzImage (no \"HdrS\" at 0x202)");
}

/* Files that are not 64-bit bzImages say why. */
static void test_foreign_refused(void **state)
{
	static const char script[600] = "#!/bin/sh\necho this is not a kernel\n";
	static uint8_t b[FAKE_LEN];

	expect_refused((const uint8_t *)script, sizeof(script),
		       "not a bzImage (no \"HdrS\" at 0x202)");
	fake_bzimage(b);
	put16(b + 0x206, 0x0206);
	expect_refused(b, sizeof(b), "boot protocol 2.06 is too old; 2.12 or later is needed");
	fake_bzimage(b);
	put16(b + 0x236, 0);
	expect_refused(b, sizeof(b), "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)");
	fake_bzimage(b);
	b[0x211] = 0;
	expect_refused(b, sizeof(b), "a zImage (not LOADED_HIGH): only bzImage is supported");
	fake_bzimage(b);
	put16(b + 0x1fe, 0x1234);
	expect_refused(b, sizeof(b), "bad boot flag 0x1234 (expected 0xaa55)");
	fake_bzimage(b);
	put32(b + 0x260, 0x100);
	expect_refused(b, sizeof(b), "init_size 0x100 is smaller than the kernel (0x1000 bytes)");
	fake_bzimage(b);
	put32(b + 0x24c, 0x2000);
	expect_refused(b, sizeof(b), "payload (0x100 + 0x2000) lies outside the kernel");
}

/* Relocatable kernels go to pref_address when they fit there, else 1 MiB. */
static void test_load_address(void **state)
{
	static uint8_t b[FAKE_LEN];
	struct bzimage_info bi;
	struct verr e = { "" };
	uint64_t a = 0;

	fake_bzimage(b);
	assert_int_equal(bzimage_parse(b, sizeof(b), &bi, NULL), 0);
	assert_int_equal(bzimage_load_addr(&bi, 512 * MiB, &a, NULL), 0);
	assert_int_equal(a, 0x1000000);
	assert_int_equal(bzimage_load_addr(&bi, 16 * MiB, &a, NULL), 0);
	assert_int_equal(a, 0x100000);
	bi.relocatable = false;
	assert_int_equal(bzimage_load_addr(&bi, 512 * MiB, &a, NULL), 0);
	assert_int_equal(a, 0x100000);
	bi.init_size = 600 * MiB;
	assert_int_equal(bzimage_load_addr(&bi, 512 * MiB, &a, &e), -E2BIG);
	assert_string_equal(e.msg, "kernel needs 600 MiB from 0x100000; the VM has 512 MiB");
}

/* The memory map: RAM below the EBDA, legacy range reserved, RAM from 1 MiB. */
static void test_e820_exact(void **state)
{
	struct e820_entry m[BOOT_E820_ENTRIES];

	boot_e820(512 * MiB, m);
	assert_int_equal(m[0].addr, 0);
	assert_int_equal(m[0].size, 0x9fc00);
	assert_int_equal(m[0].type, 1);
	assert_int_equal(m[1].addr, 0x9fc00);
	assert_int_equal(m[1].size, 0x60400);
	assert_int_equal(m[1].type, 2);
	assert_int_equal(m[2].addr, 0x100000);
	assert_int_equal(m[2].size, 511 * MiB);
	assert_int_equal(m[2].type, 1);
	/* The ACPI tables sit in the reserved entry, never in RAM. */
	assert_true(BOOT_ACPI_GPA >= m[1].addr);
	assert_true(BOOT_ACPI_GPA + BOOT_ACPI_SIZE <= m[1].addr + m[1].size);
}

/* The zero page: header copied, loader fields, pointers and e820 exactly. */
static void test_zero_page_exact(void **state)
{
	static uint8_t b[FAKE_LEN], zp[BOOT_PARAMS_SIZE];
	struct e820_entry m[BOOT_E820_ENTRIES];
	struct bzimage_params p = {
		.cmdline_gpa = BOOT_CMDLINE_GPA,
		.initrd_gpa = 0x1ff00000,
		.initrd_size = 0x12345,
		.rsdp_gpa = BOOT_ACPI_GPA,
		.e820 = m,
		.ne820 = BOOT_E820_ENTRIES,
	};
	struct bzimage_info bi;

	fake_bzimage(b);
	boot_e820(512 * MiB, m);
	assert_int_equal(bzimage_parse(b, sizeof(b), &bi, NULL), 0);
	memset(zp, 0xcc, sizeof(zp));
	assert_int_equal(bzimage_fill_zero_page(zp, b, &bi, &p, NULL), 0);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x1f1], 1);
	assert_int_equal(zp[0x1ef], 0);			/* sentinel */
	assert_int_equal(zp[0x210], 0xff);		/* type_of_loader */
	assert_int_equal(zp[0x211], 0x01);		/* loadflags kept */
	assert_int_equal(rd32(zp + 0x228), 0x20000);	/* cmd_line_ptr */
	assert_int_equal(rd32(zp + 0x218), 0x1ff00000);	/* ramdisk_image */
	assert_int_equal(rd32(zp + 0x21c), 0x12345);	/* ramdisk_size */
	assert_int_equal(rd64(zp + 0x070), 0xe0000);	/* acpi_rsdp_addr */
	assert_int_equal(zp[0x1e8], 3);			/* e820_entries */
	assert_int_equal(rd64(zp + 0x2d0), 0);
	assert_int_equal(rd64(zp + 0x2d8), 0x9fc00);
	assert_int_equal(rd32(zp + 0x2e0), 1);
	assert_int_equal(rd64(zp + 0x2e4), 0x9fc00);
	assert_int_equal(rd64(zp + 0x2ec), 0x60400);
	assert_int_equal(rd32(zp + 0x2f4), 2);
	assert_int_equal(rd64(zp + 0x2f8), 0x100000);
	assert_int_equal(rd64(zp + 0x300), 511 * MiB);
	assert_int_equal(rd32(zp + 0x308), 1);
	assert_int_equal(zp[0x30c], 0);			/* nothing past the table */
	assert_int_equal(zp[0x268], 0);			/* nothing past the header */
	assert_int_equal(zp[0xfff], 0);
}

/* The initramfs goes as high as allowed, page aligned, above the kernel. */
static void test_initrd_placement(void **state)
{
	struct verr e = { "" };
	uint64_t gpa = 0;

	assert_int_equal(boot_place_initrd(512 * MiB, 0x1234, 32 * MiB, 0x80000000, &gpa, NULL), 0);
	assert_int_equal(gpa, 0x1fffe000);
	assert_int_equal(boot_place_initrd(512 * MiB, 0x1000, 32 * MiB, 0x10000000, &gpa, NULL), 0);
	assert_int_equal(gpa, 0xffff000);
	assert_int_equal(boot_place_initrd(64 * MiB, 40 * MiB, 32 * MiB, 0x80000000, &gpa, &e),
			 -E2BIG);
	assert_string_equal(e.msg, "initramfs of 40960 KiB does not fit between the kernel "
			    "(ends at 0x2000000) and 0x4000000; give the VM more memory");
}

/* GDT with __BOOT_CS/__BOOT_DS; 4 GiB identity map in 2 MiB pages. */
static void test_long_mode_tables(void **state)
{
	struct guest_mem m = { .size = 2 * MiB };
	const uint64_t *pml4, *gdt;

	m.host = calloc(1, m.size);
	assert_int_equal(boot_write_long_mode_tables(&m, NULL), 0);
	gdt = (const uint64_t *)(m.host + BOOT_GDT_GPA);
	assert_int_equal(gdt[BOOT_CS / 8], 0x00af9a000000ffffULL);
	assert_int_equal(gdt[BOOT_DS / 8], 0x00cf92000000ffffULL);
	pml4 = (const uint64_t *)(m.host + BOOT_PML4_GPA);
	assert_int_equal(pml4[0], 0xa003);
	assert_int_equal(pml4[1], 0);
	assert_int_equal(pml4[512 + 0], 0xb003);	/* PDPT */
	assert_int_equal(pml4[512 + 3], 0xe003);
	assert_int_equal(pml4[512 + 4], 0);
	assert_int_equal(pml4[1024 + 0], 0x83);		/* PD 0: 0-2 MiB */
	assert_int_equal(pml4[1024 + 1], 0x200083);
	assert_int_equal(pml4[1024 + 2047], 0xffe00083);	/* last 2 MiB below 4 GiB */
	free(m.host);
}

/* PVH: the initramfs as module 0 and the RSDP, in a version 1 start info. */
static void test_pvh_module_and_rsdp(void **state)
{
	struct guest_mem m = { .size = 64 * MiB };
	const struct pvh_boot_info bi = {
		.cmdline = "console=ttyS0",
		.rsdp_gpa = 0xe0000,
		.module_gpa = 0x3000000,
		.module_size = 0x54321,
	};
	const struct hvm_modlist_entry *mod;
	const struct hvm_start_info *si;
	uint64_t gpa = 0;

	m.host = calloc(1, m.size);
	assert_int_equal(pvh_write_boot_info(&m, &bi, &gpa, NULL), 0);
	si = (const struct hvm_start_info *)(m.host + gpa);
	assert_int_equal(si->magic, PVH_START_INFO_MAGIC);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->rsdp_paddr, 0xe0000);
	assert_int_equal(si->nr_modules, 1);
	assert_int_equal(si->modlist_paddr, PVH_MODLIST_GPA);
	mod = (const struct hvm_modlist_entry *)(m.host + si->modlist_paddr);
	assert_int_equal(mod->paddr, 0x3000000);
	assert_int_equal(mod->size, 0x54321);
	assert_int_equal(mod->cmdline_paddr, 0);
	assert_string_equal((const char *)m.host + si->cmdline_paddr, "console=ttyS0");
	assert_int_equal(si->memmap_entries, 3);
	free(m.host);
}

/* No module: nr_modules 0 and no list; a module outside RAM is refused. */
static void test_pvh_without_or_bad_module(void **state)
{
	struct guest_mem m = { .size = 16 * MiB };
	struct pvh_boot_info bi = { .cmdline = "" };
	const struct hvm_start_info *si;
	struct verr e = { "" };
	uint64_t gpa = 0;

	m.host = calloc(1, m.size);
	assert_int_equal(pvh_write_boot_info(&m, &bi, &gpa, NULL), 0);
	si = (const struct hvm_start_info *)(m.host + gpa);
	assert_int_equal(si->nr_modules, 0);
	assert_int_equal(si->modlist_paddr, 0);
	assert_int_equal(si->rsdp_paddr, 0);
	bi.module_gpa = 15 * MiB;
	bi.module_size = 2 * MiB;
	assert_int_equal(pvh_write_boot_info(&m, &bi, &gpa, &e), -EINVAL);
	assert_string_equal(e.msg, "PVH module (0xf00000 + 0x200000) outside guest memory");
	free(m.host);
}

/* ---- Debian's kernel ---- */

static char debian_kernel[4096];

/* Path of Debian's vmlinuz via scripts/fetch-test-kernel.sh, or skip/fail. */
static const char *require_debian_kernel(void)
{
	const char *src = getenv("VMORCH_SRCDIR");
	char cmd[4200], dir[4096] = "";
	glob_t g;
	FILE *p;

	if (debian_kernel[0])
		return debian_kernel;
	snprintf(cmd, sizeof(cmd), "'%s/scripts/fetch-test-kernel.sh' 2>/dev/null",
		 src ? src : ".");
	p = popen(cmd, "r");
	if (p && fgets(dir, sizeof(dir), p))
		dir[strcspn(dir, "\n")] = 0;
	if (p)
		pclose(p);
	snprintf(cmd, sizeof(cmd), "%s/boot/vmlinuz-*", dir);
	if (dir[0] && glob(cmd, 0, NULL, &g) == 0) {
		snprintf(debian_kernel, sizeof(debian_kernel), "%s", g.gl_pathv[0]);
		globfree(&g);
		return debian_kernel;
	}
	if (getenv("CI") || getenv("VMORCH_REQUIRE_KVM"))
		fail_msg("cannot fetch Debian's kernel (scripts/fetch-test-kernel.sh)");
	skip();
	return NULL;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Debian's kernel is a relocatable 64-bit bzImage we load at 16 MiB. */
static void test_debian_bzimage_header(void **state)
{
	const char *path = require_debian_kernel();
	struct bzimage_info bi;
	struct verr e = { "" };
	uint64_t load = 0;
	uint8_t *b;
	size_t len;

	b = slurp(path, &len);
	assert_int_equal(bzimage_parse(b, len, &bi, &e), 0);
	assert_true(bi.version >= 0x020c);
	assert_true(bi.xloadflags & BZ_XLF_KERNEL_64);
	assert_true(bi.relocatable);
	assert_int_equal(bi.setup_size, ((b[0x1f1] ? b[0x1f1] : 4) + 1) * 512);
	assert_int_equal(bi.kernel_size, len - bi.setup_size);
	assert_int_equal(bi.pref_address, 0x1000000);
	assert_int_equal(bi.kernel_alignment, 0x200000);
	assert_int_equal(bi.cmdline_size, 2047);
	assert_true(bi.init_size > bi.kernel_size);
	assert_true(bi.payload_length > 1 * MiB);
	assert_int_equal(bzimage_load_addr(&bi, 512 * MiB, &load, NULL), 0);
	assert_int_equal(load, 0x1000000);
	/* Cut anywhere inside the kernel: refused, never read past the end. */
	assert_int_equal(bzimage_parse(b, len / 2, &bi, &e), -ENOEXEC);
	assert_non_null(strstr(e.msg, "truncated: "));
	free(b);
}

/* Its zero page carries its own setup header byte for byte. */
static void test_debian_zero_page(void **state)
{
	const char *path = require_debian_kernel();
	static uint8_t zp[BOOT_PARAMS_SIZE];
	struct e820_entry m[BOOT_E820_ENTRIES];
	struct bzimage_params p = {
		.cmdline_gpa = BOOT_CMDLINE_GPA, .rsdp_gpa = BOOT_ACPI_GPA,
		.e820 = m, .ne820 = BOOT_E820_ENTRIES,
	};
	struct bzimage_info bi;
	uint8_t *b;
	size_t len;

	b = slurp(path, &len);
	boot_e820(256 * MiB, m);
	assert_int_equal(bzimage_parse(b, len, &bi, NULL), 0);
	assert_int_equal(bzimage_fill_zero_page(zp, b, &bi, &p, NULL), 0);
	assert_memory_equal(zp + 0x1f1, b + 0x1f1, 0x210 - 0x1f1);
	assert_memory_equal(zp + 0x212, b + 0x212, 0x218 - 0x212);
	assert_memory_equal(zp + 0x22c, b + 0x22c, 0x1f1 + bi.header_len - 0x22c);
	assert_int_equal(zp[0x210], 0xff);
	assert_int_equal(rd32(zp + 0x218), 0);		/* no initrd given */
	assert_int_equal(zp[0x1e8], 3);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_bzimage_parses),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_foreign_refused),
		cmocka_unit_test(test_load_address),
		cmocka_unit_test(test_e820_exact),
		cmocka_unit_test(test_zero_page_exact),
		cmocka_unit_test(test_initrd_placement),
		cmocka_unit_test(test_long_mode_tables),
		cmocka_unit_test(test_pvh_module_and_rsdp),
		cmocka_unit_test(test_pvh_without_or_bad_module),
		cmocka_unit_test(test_debian_bzimage_header),
		cmocka_unit_test(test_debian_zero_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
