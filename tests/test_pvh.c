/*
 * test_pvh.c - the PVH loader: hand-built ELFs, truncated and foreign files,
 * and the start info it writes for the guest.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm-worker/pvh.h"

#define MEM_SIZE (4ULL << 20)

/* A minimal PVH ELF: one PT_NOTE with Xen's entry note, one PT_LOAD at 1 MiB. */
struct tiny_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t code[16];
};

static void tiny_elf_init(struct tiny_elf *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->eh.e_ident, ELFMAG, SELFMAG);
	t->eh.e_ident[EI_CLASS] = ELFCLASS64;
	t->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	t->eh.e_ident[EI_VERSION] = EV_CURRENT;
	t->eh.e_type = ET_EXEC;
	t->eh.e_machine = EM_X86_64;
	t->eh.e_phoff = offsetof(struct tiny_elf, ph);
	t->eh.e_phentsize = sizeof(Elf64_Phdr);
	t->eh.e_phnum = 2;
	t->eh.e_ehsize = sizeof(Elf64_Ehdr);
	t->ph[0].p_type = PT_NOTE;
	t->ph[0].p_offset = offsetof(struct tiny_elf, nh);
	t->ph[0].p_filesz = sizeof(Elf64_Nhdr) + 4 + 4;
	t->ph[1].p_type = PT_LOAD;
	t->ph[1].p_offset = offsetof(struct tiny_elf, code);
	t->ph[1].p_paddr = 0x100000;
	t->ph[1].p_filesz = sizeof(t->code);
	t->ph[1].p_memsz = 4096;
	t->nh.n_namesz = 4;
	t->nh.n_descsz = 4;
	t->nh.n_type = XEN_ELFNOTE_PHYS32_ENTRY;
	memcpy(t->name, "Xen", 4);
	t->entry = 0x100004;
	memset(t->code, 0x90, sizeof(t->code));
}

static int setup(void **state)
{
	struct guest_mem *m = malloc(sizeof(*m));

	m->size = MEM_SIZE;
	m->host = calloc(1, MEM_SIZE);
	*state = m;
	return m->host ? 0 : -1;
}

static int teardown(void **state)
{
	struct guest_mem *m = *state;

	free(m->host);
	free(m);
	return 0;
}

static void expect_load_error(struct guest_mem *m, const void *elf, size_t len,
			      const char *msg)
{
	struct verr e = { "" };
	uint32_t entry = 0;

	assert_int_equal(pvh_load_elf(m, elf, len, &entry, &e), -ENOEXEC);
	assert_string_equal(e.msg, msg);
}

/* A good image loads at its physical address, bss zeroed, entry from the note. */
static void test_load_tiny_elf(void **state)
{
	struct guest_mem *m = *state;
	struct tiny_elf t;
	uint32_t entry = 0;

	tiny_elf_init(&t);
	memset(m->host + 0x100000, 0xaa, 8192);
	assert_int_equal(pvh_load_elf(m, (uint8_t *)&t, sizeof(t), &entry, NULL), 0);
	assert_int_equal(entry, 0x100004);
	assert_memory_equal(m->host + 0x100000, t.code, sizeof(t.code));
	assert_int_equal(m->host[0x100000 + 16], 0);
	assert_int_equal(m->host[0x100000 + 4095], 0);
	assert_int_equal(m->host[0x100000 + 4096], 0xaa);	/* past memsz: untouched */
}

static void test_refuse_not_elf(void **state)
{
	static const char text[] = "#!/bin/sh\necho this is not a kernel\n";

	expect_load_error(*state, text, sizeof(text), "not an ELF file");
	expect_load_error(*state, text, 3, "not an ELF file");
}

static void test_refuse_foreign_elf(void **state)
{
	struct tiny_elf t;

	tiny_elf_init(&t);
	t.eh.e_machine = EM_AARCH64;
	expect_load_error(*state, &t, sizeof(t),
			  "not a little-endian x86-64 ELF (class 2, machine 183)");
	tiny_elf_init(&t);
	t.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_load_error(*state, &t, sizeof(t),
			  "not a little-endian x86-64 ELF (class 1, machine 62)");
}

/* Cut anywhere inside the headers or segments: refused, never read past the end. */
static void test_refuse_truncated(void **state)
{
	struct tiny_elf t;

	tiny_elf_init(&t);
	expect_load_error(*state, &t, sizeof(Elf64_Ehdr) + 10,
			  "ELF program headers out of the file's bounds");
	expect_load_error(*state, &t, offsetof(struct tiny_elf, code) + 4,
			  "ELF segment 1 lies outside the file");
}

static void test_refuse_without_pvh_note(void **state)
{
	struct tiny_elf t;

	tiny_elf_init(&t);
	t.nh.n_type = 5;
	expect_load_error(*state, &t, sizeof(t),
			  "ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			  "is it a PVH-capable kernel?");
	tiny_elf_init(&t);
	memcpy(t.name, "Gnu", 4);
	expect_load_error(*state, &t, sizeof(t),
			  "ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			  "is it a PVH-capable kernel?");
}

static void test_refuse_low_or_huge_segment(void **state)
{
	struct guest_mem *m = *state;
	struct verr e = { "" };
	struct tiny_elf t;
	uint32_t entry;

	tiny_elf_init(&t);
	t.ph[1].p_paddr = 0x1000;
	expect_load_error(m, &t, sizeof(t),
			  "ELF segment 1: bad sizes or loads below 1 MiB (paddr 0x1000)");
	tiny_elf_init(&t);
	t.ph[1].p_memsz = MEM_SIZE;
	assert_int_equal(pvh_load_elf(m, (uint8_t *)&t, sizeof(t), &entry, &e), -E2BIG);
	assert_string_equal(e.msg, "ELF segment 1 (0x100000 + 0x400000) does not fit in "
			    "4 MiB of guest memory");
}

/* The start info carries the magic, the command line and a sane memory map. */
static void test_start_info_contents(void **state)
{
	struct guest_mem *m = *state;
	const struct hvm_memmap_table_entry *map;
	const struct hvm_start_info *si;
	uint64_t gpa = 0;

	assert_int_equal(pvh_write_start_info(m, "pattern=randread bs=4096", &gpa, NULL), 0);
	si = (const struct hvm_start_info *)(m->host + gpa);
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_string_equal((const char *)m->host + si->cmdline_paddr,
			    "pattern=randread bs=4096");
	assert_int_equal(si->memmap_entries, 3);
	map = (const struct hvm_memmap_table_entry *)(m->host + si->memmap_paddr);
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].type, 1);
	assert_int_equal(map[1].type, 2);
	assert_int_equal(map[2].addr, 0x100000);
	assert_int_equal(map[2].addr + map[2].size, MEM_SIZE);
	assert_int_equal(map[2].type, 1);
}

static void test_start_info_refuses_long_cmdline(void **state)
{
	char *big = malloc(PVH_CMDLINE_MAX + 2);
	struct verr e = { "" };
	uint64_t gpa;

	memset(big, 'x', PVH_CMDLINE_MAX + 1);
	big[PVH_CMDLINE_MAX + 1] = 0;
	assert_int_equal(pvh_write_start_info(*state, big, &gpa, &e), -E2BIG);
	assert_string_equal(e.msg, "kernel command line is 4096 bytes, at most 4095");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_tiny_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_not_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_foreign_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_without_pvh_note, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_low_or_huge_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_info_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_info_refuses_long_cmdline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
