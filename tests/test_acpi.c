/*
 * test_acpi.c - the ACPI tables of a Linux guest: layout and checksums
 * checked in C, then every table disassembled by ACPICA's own `iasl -d`
 * (Debian's acpica-tools), so the AML is read by a real parser, not by us.
 * Without iasl the round trip skips, unless CI is set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm-worker/acpi.h"

#define BASE	0xe0000ULL
#define CAP	0x20000

/* Two vCPUs and two disks on the worker's machine layout. */
static const struct acpi_config two_by_two = {
	.ncpus = 2,
	.ndisks = 2,
	.mmio_base = 0xfeb00000,
	.mmio_stride = 0x200,
	.mmio_size = 0x200,
	.gsi0 = 5,
	.serial_port = 0x3f8,
	.serial_irq = 4,
};

struct tables {
	uint8_t buf[CAP];
	size_t len;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A guest physical address inside the blob, as a host pointer (checked). */
static const uint8_t *at(const struct tables *t, uint64_t gpa, size_t len)
{
	assert_true(gpa >= BASE);
	assert_true(gpa - BASE + len <= t->len);
	return t->buf + (gpa - BASE);
}

static const uint8_t *table(const struct tables *t, uint64_t gpa, const char *sig)
{
	const uint8_t *p = at(t, gpa, 36);

	assert_memory_equal(p, sig, 4);
	at(t, gpa, rd32(p + 4));
	assert_int_equal(acpi_checksum(p, rd32(p + 4)), 0);
	return p;
}

static void build(struct tables *t, const struct acpi_config *cfg)
{
	struct verr e = { "" };

	memset(t, 0, sizeof(*t));
	assert_int_equal(acpi_build(cfg, BASE, t->buf, sizeof(t->buf), &t->len, &e), 0);
	t->rsdp = t->buf;
	t->xsdt = table(t, rd64(t->rsdp + 24), "XSDT");
	assert_int_equal(rd32(t->xsdt + 4), 36 + 2 * 8);
	t->fadt = table(t, rd64(t->xsdt + 36), "FACP");
	t->madt = table(t, rd64(t->xsdt + 44), "APIC");
	t->dsdt = table(t, rd64(t->fadt + 140), "DSDT");
}

/* RSDP v2 at the base, both checksums right, pointing at the XSDT. */
static void test_rsdp_v2_checksums(void **state)
{
	static struct tables t;

	build(&t, &two_by_two);
	assert_memory_equal(t.rsdp, "RSD PTR ", 8);
	assert_int_equal(t.rsdp[15], 2);
	assert_int_equal(acpi_checksum(t.rsdp, 20), 0);
	assert_int_equal(acpi_checksum(t.rsdp, 36), 0);
	assert_int_equal(rd32(t.rsdp + 20), 36);
	assert_int_equal(rd32(t.rsdp + 16), 0);		/* no RSDT: XSDT only */
}

/* Hardware-reduced FADT: flags, DSDT both ways, reset and sleep registers. */
static void test_fadt_hardware_reduced(void **state)
{
	static struct tables t;

	build(&t, &two_by_two);
	assert_int_equal(rd32(t.fadt + 4), 276);
	assert_int_equal(rd32(t.fadt + 112), (1U << 20) | (1U << 10));
	assert_int_equal(t.fadt[109], (1 << 2) | (1 << 5));	/* no VGA, no CMOS RTC */
	assert_int_equal(rd32(t.fadt + 40), rd64(t.fadt + 140));
	assert_int_equal(t.fadt[116], 1);			/* reset reg: system I/O */
	assert_int_equal(rd64(t.fadt + 120), 0x64);
	assert_int_equal(t.fadt[128], 0xfe);
	assert_int_equal(rd64(t.fadt + 248), ACPI_SLEEP_CTL_PORT);
	assert_int_equal(rd64(t.fadt + 260), ACPI_SLEEP_STS_PORT);
	assert_int_equal(rd32(t.fadt + 46), 0);		/* no SCI */
}

/* MADT: one enabled local APIC per vCPU (ids 0, 1), the IOAPIC, IRQ0->GSI2. */
static void test_madt_entries(void **state)
{
	static const uint8_t expect[] = {
		0, 8, 0, 0, 1, 0, 0, 0,
		0, 8, 1, 1, 1, 0, 0, 0,
		1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0,
		2, 10, 0, 0, 2, 0, 0, 0, 0, 0,
	};
	static struct tables t;

	build(&t, &two_by_two);
	assert_int_equal(rd32(t.madt + 4), 44 + sizeof(expect));
	assert_int_equal(rd32(t.madt + 36), 0xfee00000);
	assert_int_equal(rd32(t.madt + 40), 1);
	assert_memory_equal(t.madt + 44, expect, sizeof(expect));
}

/* Every table lies inside the blob, 8-byte aligned, after the RSDP. */
static void test_tables_fit_and_align(void **state)
{
	static struct tables t;
	uint8_t small[200];
	struct verr e = { "" };
	size_t len;

	build(&t, &two_by_two);
	assert_true(t.len < 4096);
	assert_int_equal((t.dsdt - t.buf) % 8, 0);
	assert_int_equal((t.fadt - t.buf) % 8, 0);
	assert_int_equal((t.madt - t.buf) % 8, 0);
	assert_int_equal(acpi_build(&two_by_two, BASE, small, sizeof(small), &len, &e), -E2BIG);
	assert_string_equal(e.msg, "ACPI tables do not fit in 200 bytes");
}

/* ---- round trip through iasl -d ---- */

static char tmpdir[] = "/tmp/vmorch-acpi-XXXXXX";

static int have_iasl(void)
{
	return system("iasl -v >/dev/null 2>&1") == 0;
}

static void require_iasl(void)
{
	if (have_iasl())
		return;
	if (getenv("CI"))
		fail_msg("iasl (acpica-tools) is not installed and CI is set");
	skip();
}

static void write_table(const char *name, const uint8_t *p)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, rd32(p + 4), f), rd32(p + 4));
	fclose(f);
}

/*
 * Disassemble one table and return its text with comments dropped and
 * every run of white space folded to one blank, so assertions do not
 * depend on iasl's column layout.
 */
static char *disassemble(const char *name)
{
	char cmd[512], path[256];
	char *raw, *out, *o;
	long n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat >iasl-%s.log 2>&1",
		 tmpdir, name, name);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s.dsl", tmpdir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	raw = calloc(1, (size_t)n + 1);
	out = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(raw, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	o = out;
	for (char *p = raw; *p; p++) {
		if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
			if (!*p)
				break;
		} else if (p[0] == '/' && p[1] == '*') {
			char *end = strstr(p + 2, "*/");

			if (!end)
				break;
			p = end + 1;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
			continue;
		}
		*o++ = *p;
	}
	*o = 0;
	free(raw);
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static int setup_dir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* iasl finds both virtio-mmio devices with their windows and edge interrupts. */
static void test_iasl_dsdt_has_both_disks(void **state)
{
	static struct tables t;
	char *dsl;

	require_iasl();
	build(&t, &two_by_two);
	write_table("DSDT", t.dsdt);
	dsl = disassemble("DSDT");
	assert_int_equal(count(dsl, "Name (_HID, \"LNRO0005\")"), 2);
	assert_non_null(strstr(dsl,
		"Device (VR00) { Name (_HID, \"LNRO0005\") Name (_UID, Zero) "
		"Name (_CCA, One) Name (_CRS, ResourceTemplate () { "
		"Memory32Fixed (ReadWrite, 0xFEB00000, 0x00000200, ) "
		"Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) "
		"{ 0x00000005, } }) }"));
	assert_non_null(strstr(dsl,
		"Device (VR01) { Name (_HID, \"LNRO0005\") Name (_UID, One) "
		"Name (_CCA, One) Name (_CRS, ResourceTemplate () { "
		"Memory32Fixed (ReadWrite, 0xFEB00200, 0x00000200, ) "
		"Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) "
		"{ 0x00000006, } }) }"));
	free(dsl);
}

/* COM1 (so the 8250 driver gets IRQ 4 through ACPI) and \_S5 for power-off. */
static void test_iasl_dsdt_serial_and_s5(void **state)
{
	static struct tables t;
	char *dsl;

	require_iasl();
	build(&t, &two_by_two);
	write_table("DSDT", t.dsdt);
	dsl = disassemble("DSDT");
	assert_non_null(strstr(dsl,
		"Device (COM1) { Name (_HID, EisaId (\"PNP0501\") ) Name (_UID, One) "
		"Name (_CRS, ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x01, "
		"0x08, ) IRQNoFlags () {4} }) }"));
	assert_non_null(strstr(dsl, "Name (\\_S5, Package (0x02) { 0x05, Zero })"));
	free(dsl);
}

/* iasl reads the MADT as two local APICs and one IOAPIC at 0xfec00000. */
static void test_iasl_madt(void **state)
{
	static struct tables t;
	char *dsl;

	require_iasl();
	build(&t, &two_by_two);
	write_table("APIC", t.madt);
	dsl = disassemble("APIC");
	assert_int_equal(count(dsl, "Subtable Type : 00 [Processor Local APIC]"), 2);
	assert_int_equal(count(dsl, "Subtable Type : 01 [I/O APIC]"), 1);
	assert_non_null(strstr(dsl, "Local Apic ID : 01"));
	assert_non_null(strstr(dsl, "I/O Apic ID : 00"));
	assert_non_null(strstr(dsl, "Address : FEC00000"));
	free(dsl);
}

/* iasl agrees the FADT is hardware-reduced and finds no checksum error. */
static void test_iasl_fadt(void **state)
{
	static struct tables t;
	char *dsl;

	require_iasl();
	build(&t, &two_by_two);
	write_table("FACP", t.fadt);
	dsl = disassemble("FACP");
	assert_non_null(strstr(dsl, "Hardware Reduced (V5) : 1"));
	assert_non_null(strstr(dsl, "Reset Register Supported (V2) : 1"));
	assert_null(strstr(dsl, "Incorrect checksum"));
	free(dsl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp_v2_checksums),
		cmocka_unit_test(test_fadt_hardware_reduced),
		cmocka_unit_test(test_madt_entries),
		cmocka_unit_test(test_tables_fit_and_align),
		cmocka_unit_test(test_iasl_dsdt_has_both_disks),
		cmocka_unit_test(test_iasl_dsdt_serial_and_s5),
		cmocka_unit_test(test_iasl_madt),
		cmocka_unit_test(test_iasl_fadt),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
