/*
 * test_scenario.c - the scenario loader and expander: every malformed file
 * under tests/scenarios/bad/ is refused with its exact message and position,
 * the files under tests/scenarios/good/ expand to exactly the expected jobs,
 * and every shipped scenario in scenarios/ loads and expands.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/sha256.h"
#include "orchestrator/scenario.h"

static const char *srcdir(void)
{
	const char *d = getenv("VMORCH_SRCDIR");

	return d && *d ? d : ".";
}

static void fixture_path(char *buf, size_t len, const char *sub, const char *file)
{
	snprintf(buf, len, "%s/%s/%s", srcdir(), sub, file);
}

/* ---- malformed files: one exact message each ---- */

struct bad_case {
	const char *file;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "alias.yaml",
	  "alias.yaml:5:12: aliases (*two) are not supported" },
	{ "allow-block-device-yes.yaml",
	  "allow-block-device-yes.yaml:7:29: bad allow_block_device 'yes' (expected true or false)" },
	{ "anchor.yaml",
	  "anchor.yaml:3:11: anchors (&d) are not supported" },
	{ "bad-hostile.yaml",
	  "bad-hostile.yaml:6:16: bad hostile 'evil' (expected one of: none, invalid_avail_idx, desc_loop, oob_addr, bad_type, short_header, no_status, ro_write, zero_len, bad_insn)" },
	{ "bad-pattern.yaml",
	  "bad-pattern.yaml:6:16: bad pattern 'sequential' (expected one of: seqread, seqwrite, randread, randwrite, randrw)" },
	{ "bad-scenario-name.yaml",
	  "bad-scenario-name.yaml:2:7: bad scenario name 'my scenario' (expected letters, digits, '_', '.', '-')" },
	{ "bs-align.yaml",
	  "bs-align.yaml:6:11: bs 1000 is not a multiple of 512" },
	{ "bs-range.yaml",
	  "bs-range.yaml:6:11: bs 2M out of range (expected 512..1M)" },
	{ "bucket-no-refill.yaml",
	  "bucket-no-refill.yaml:8:22: missing required key 'refill_time' in bandwidth" },
	{ "bucket-ops-unit.yaml",
	  "bucket-ops-unit.yaml:8:23: bad number '1k' (expected a whole number)" },
	{ "complex-key.yaml",
	  "complex-key.yaml:5:7: mapping keys must be plain text, not a list" },
	{ "control-char.yaml",
	  "control-char.yaml:5:13: control character 0x01 is not allowed" },
	{ "defaults-bad-value.yaml",
	  "defaults-bad-value.yaml:4:12: bad time '10' (expected a time like 500ms or 30s)" },
	{ "defaults-unknown-key.yaml",
	  "defaults-unknown-key.yaml:5:3: unknown key 'disk' in defaults (expected one of: vcpus, memory, guest, disks, workload, timeout, repeat, expect, placement)" },
	{ "description-mapping.yaml",
	  "description-mapping.yaml:3:14: 'description' must be text, not a mapping" },
	{ "disk-below-bs.yaml",
	  "disk-below-bs.yaml:7:15: disk 1 (2048 bytes) is smaller than the default bs 4k (expected at least one block)" },
	{ "disk-no-size.yaml",
	  "disk-no-size.yaml:6:9: a disk needs a size or an image" },
	{ "disk-size-align.yaml",
	  "disk-size-align.yaml:6:15: disk size 1000 is not a multiple of 512" },
	{ "disk-size-and-image.yaml",
	  "disk-size-and-image.yaml:6:9: a disk takes size or image, not both" },
	{ "disks-empty.yaml",
	  "disks-empty.yaml:5:12: 'disks' must not be empty (leave it out for a VM without disks)" },
	{ "disks-too-many.yaml",
	  "disks-too-many.yaml:14:9: too many disks (9, at most 8)" },
	{ "dup-top-key.yaml",
	  "dup-top-key.yaml:3:1: duplicate key 'name' (first at 2:1)" },
	{ "dup-vm-name.yaml",
	  "dup-vm-name.yaml:6:11: duplicate vm name 'a' (first at 4:11)" },
	{ "dup-workload-key.yaml",
	  "dup-workload-key.yaml:8:7: duplicate key 'qd' (first at 7:7)" },
	{ "empty.yaml",
	  "empty.yaml:1:1: empty scenario (expected a mapping starting with 'vmorch: 1')" },
	{ "expect-bad-comparison.yaml",
	  "expect-bad-comparison.yaml:8:24: bad comparison 'about 1000' (expected an operator ==, !=, <, <=, >, >= and a number, like \">= 1000\")" },
	{ "expect-bad-metric.yaml",
	  "expect-bad-metric.yaml:6:7: unknown expectation 'IOPS' (did you mean iops?)" },
	{ "expect-bad-unit.yaml",
	  "expect-bad-unit.yaml:8:19: bad number in comparison '>= 4X' (expected a number with an optional unit: k, M, G)" },
	{ "expect-bare-number.yaml",
	  "expect-bare-number.yaml:8:24: bad comparison '1000' (expected an operator ==, !=, <, <=, >, >= and a number, like \">= 1000\")" },
	{ "expect-disk-index.yaml",
	  "expect-disk-index.yaml:9:7: 'disk2.io_errors' names disk 2, but the VM has 2 disks" },
	{ "expect-mapping-value.yaml",
	  "expect-mapping-value.yaml:6:13: 'iops' must be a comparison like \">= 1000\", not a mapping" },
	{ "expect-metric-wrong-guest.yaml",
	  "expect-metric-wrong-guest.yaml:8:7: metric 'lat_p99_us' is not reported by the built-in guest (only by a Linux guest)" },
	{ "expect-no-disks.yaml",
	  "expect-no-disks.yaml:6:7: 'io_errors' is a disk counter, but the VM has no disks" },
	{ "expect-unknown-counter.yaml",
	  "expect-unknown-counter.yaml:8:7: unknown counter 'reads' in 'disk0.reads'" },
	{ "expect-unknown-metric.yaml",
	  "expect-unknown-metric.yaml:9:7: unknown expectation 'reads_complete' (did you mean reads_completed?)" },
	{ "guest-files-not-list.yaml",
	  "guest-files-not-list.yaml:7:14: bad files (expected a list of paths or {src, dst} mappings)" },
	{ "guest-files-bad-dst.yaml",
	  "guest-files-bad-dst.yaml:8:30: bad guest path '/proc/x' (expected an absolute path without . or .. components, and not /init, /proc, /sys, /dev or /lib/modules)" },
	{ "guest-files-no-src.yaml",
	  "guest-files-no-src.yaml:8:11: missing required key 'src' in files entry" },
	{ "guest-run-disk1.yaml",
	  "guest-run-disk1.yaml:7:18: run names ${disk1} but the VM has 1 disk (they are numbered from 0)" },
	{ "guest-run-and-workload.yaml",
	  "guest-run-and-workload.yaml:9:15: workload and guest run exclude each other (the agent runs its own workload or your program, not both)" },
	{ "guest-run-own-initramfs.yaml",
	  "guest-run-own-initramfs.yaml:8:12: run needs the agent's initramfs, which vmorch builds: leave out initramfs" },
	{ "guest-files-own-initramfs.yaml",
	  "guest-files-own-initramfs.yaml:8:14: files go into the agent's initramfs, which vmorch builds: leave out initramfs" },
	{ "guest-rootfs-no-run.yaml",
	  "guest-rootfs-no-run.yaml:7:15: rootfs needs run (the program to run in it)" },
	{ "guest-rootfs-no-image.yaml",
	  "guest-rootfs-no-image.yaml:8:15: missing required key 'image' in rootfs" },
	{ "guest-run-empty.yaml",
	  "guest-run-empty.yaml:7:12: bad run (expected a command line as one string, or a non-empty list of words)" },
	{ "guest-run-map-word.yaml",
	  "guest-run-map-word.yaml:7:18: 'run' entries must be text, not a mapping" },
	{ "guest-metrics-from-no-run.yaml",
	  "guest-metrics-from-no-run.yaml:7:21: metrics_from needs run (the program whose output it reads)" },
	{ "guest-metrics-from-bad.yaml",
	  "guest-metrics-from-bad.yaml:8:21: bad metrics_from 'csv' (expected one of: lines, fio-json, none)" },
	{ "guest-linux-word.yaml",
	  "guest-linux-word.yaml:5:12: bad guest 'linux' (expected builtin or a mapping with kernel, initramfs, modules, cmdline, files, run, rootfs)" },
	{ "guest-no-kernel.yaml",
	  "guest-no-kernel.yaml:6:7: missing required key 'kernel' in guest" },
	{ "image-directory.yaml",
	  "image-directory.yaml:6:16: image '.' is a directory (expected a raw image file)" },
	{ "matrix-bad-value.yaml",
	  "matrix-bad-value.yaml:4:12: bs 1000 is not a multiple of 512" },
	{ "matrix-dup-value.yaml",
	  "matrix-dup-value.yaml:4:14: duplicate matrix value '1' (first at 4:8)" },
	{ "matrix-empty-list.yaml",
	  "matrix-empty-list.yaml:4:7: matrix key 'bs' has no values (expected a non-empty list)" },
	{ "matrix-no-matrix-ref.yaml",
	  "matrix-no-matrix-ref.yaml:5:20: unknown matrix key 'qd' (the scenario has no matrix)" },
	{ "matrix-partial-ref.yaml",
	  "matrix-partial-ref.yaml:7:20: bad matrix reference '${n}k' (expected a whole value like ${bs})" },
	{ "matrix-scalar.yaml",
	  "matrix-scalar.yaml:4:7: matrix key 'bs' must have a list of values, not a single value" },
	{ "matrix-unknown-ref.yaml",
	  "matrix-unknown-ref.yaml:7:33: unknown matrix key 'depth' (expected one of: bs)" },
	{ "matrix-unused-key.yaml",
	  "matrix-unused-key.yaml:5:3: matrix key 'qd' is not used (expected ${qd} in a vm or in defaults)" },
	{ "matrix-value-chars.yaml",
	  "matrix-value-chars.yaml:4:12: bad matrix value 'b,c' (expected printable ASCII without spaces or any of , [ ] = # $ { })" },
	{ "memory-align.yaml",
	  "memory-align.yaml:5:13: memory 2049k is not a multiple of 4k" },
	{ "memory-bad-unit.yaml",
	  "memory-bad-unit.yaml:5:13: bad size '64X' (expected a number with an optional unit: k, M, G)" },
	{ "memory-overflow.yaml",
	  "memory-overflow.yaml:5:13: size '99999999999999999999' is too large" },
	{ "memory-range.yaml",
	  "memory-range.yaml:5:13: memory 1M out of range (expected 2M..3G)" },
	{ "missing-name.yaml",
	  "missing-name.yaml:1:1: missing required key 'name' (the scenario's name)" },
	{ "missing-version.yaml",
	  "missing-version.yaml:1:1: missing required key 'vmorch' (expected 'vmorch: 1', the format version)" },
	{ "missing-vms.yaml",
	  "missing-vms.yaml:1:1: missing required key 'vms' (the list of VMs)" },
	{ "name-in-defaults.yaml",
	  "name-in-defaults.yaml:4:3: unknown key 'name' in defaults (expected one of: vcpus, memory, guest, disks, workload, timeout, repeat, expect, placement)" },
	{ "not-utf8.yaml",
	  "not-utf8.yaml:7:21: file is not UTF-8 text (byte 0xe9)" },
	{ "ops-no-disk.yaml",
	  "ops-no-disk.yaml:5:40: workload has ops 1000 but the VM has no disks, so it would pass without any I/O (add a disk, or leave ops out)" },
	{ "placement-bad-label.yaml",
	  "placement-bad-label.yaml:6:22: bad label 'fast disk' (expected letters, digits, '_', '.', '-')" },
	{ "placement-empty.yaml",
	  "placement-empty.yaml:6:15: 'labels' must not be empty (leave placement out for a VM any host may take)" },
	{ "placement-no-labels.yaml",
	  "placement-no-labels.yaml:5:16: 'placement' must have 'labels'" },
	{ "placement-not-map.yaml",
	  "placement-not-map.yaml:5:16: 'placement' must be a mapping, not a single value" },
	{ "placement-twice.yaml",
	  "placement-twice.yaml:6:27: label 'nvme' given twice" },
	{ "placement-unknown-key.yaml",
	  "placement-unknown-key.yaml:6:7: unknown key 'label' in placement (expected one of: labels)" },
	{ "qd-zero.yaml",
	  "qd-zero.yaml:6:11: qd 0 out of range (expected 1..256)" },
	{ "read-only-yes.yaml",
	  "read-only-yes.yaml:7:20: bad read_only 'yes' (expected true or false)" },
	{ "repeat-range.yaml",
	  "repeat-range.yaml:5:13: repeat 1001 out of range (expected 1..1000)" },
	{ "repeat-zero.yaml",
	  "repeat-zero.yaml:5:13: repeat 0 out of range (expected 1..1000)" },
	{ "ro-write-rw-disk.yaml",
	  "ro-write-rw-disk.yaml:8:16: hostile ro_write needs disk 0 with read_only: true" },
	{ "root-list.yaml",
	  "root-list.yaml:1:1: a scenario must be a mapping, not a list" },
	{ "rwmix-range.yaml",
	  "rwmix-range.yaml:6:14: rwmix 101 out of range (expected 0..100)" },
	{ "serial-too-long.yaml",
	  "serial-too-long.yaml:7:17: serial 'abcdefghijklmnopqrstu' too long (at most 20 characters)" },
	{ "span-below-bs.yaml",
	  "span-below-bs.yaml:7:40: span 32k is smaller than bs 64k (expected at least one block)" },
	{ "span-below-default-bs.yaml",
	  "span-below-default-bs.yaml:7:31: span 1k is smaller than the default bs 4k (expected at least one block)" },
	{ "span-beyond-disk-matrix.yaml",
	  "span-beyond-disk-matrix.yaml:4:14: span 32M is larger than disk 0 (16777216 bytes, at 8:15)" },
	{ "span-beyond-disk.yaml",
	  "span-beyond-disk.yaml:8:58: span 4M is larger than disk 1 (1048576 bytes, at 7:15)" },
	{ "syntax-bad-indent.yaml",
	  "syntax-bad-indent.yaml:5:4: YAML syntax error: did not find expected '-' indicator (while parsing a block collection at line 4)" },
	{ "syntax-tab.yaml",
	  "syntax-tab.yaml:5:1: YAML syntax error: found a tab character that violates indentation (while scanning a plain scalar at line 4)" },
	{ "syntax-unclosed-quote.yaml",
	  "syntax-unclosed-quote.yaml:6:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at line 5)" },
	{ "tag.yaml",
	  "tag.yaml:5:12: tags (tag:yaml.org,2002:int) are not supported" },
	{ "throttle-empty.yaml",
	  "throttle-empty.yaml:7:19: 'throttle' must not be empty (expected bandwidth, ops or both)" },
	{ "timeout-bad-unit.yaml",
	  "timeout-bad-unit.yaml:5:14: bad time '30sec' (expected a time like 500ms or 30s)" },
	{ "timeout-no-unit.yaml",
	  "timeout-no-unit.yaml:5:14: bad time '30' (expected a time like 500ms or 30s)" },
	{ "too-many-combos.yaml",
	  "too-many-combos.yaml:6:1: scenario expands to at least 10100 jobs (at most 10000)" },
	{ "too-many-jobs.yaml",
	  "too-many-jobs.yaml:5:1: scenario expands to 11000 jobs (at most 10000)" },
	{ "two-documents.yaml",
	  "two-documents.yaml:5:1: more than one YAML document (expected one scenario per file)" },
	{ "unknown-bucket-key.yaml",
	  "unknown-bucket-key.yaml:8:28: unknown key 'refill' in ops (expected one of: size, one_time_burst, refill_time)" },
	{ "unknown-disk-key.yaml",
	  "unknown-disk-key.yaml:7:9: unknown key 'readonly' in disk (expected one of: size, image, read_only, allow_block_device, serial, throttle)" },
	{ "unknown-guest-key.yaml",
	  "unknown-guest-key.yaml:7:7: unknown key 'initrd' in guest (expected one of: kernel, modules, initramfs, cmdline, files, run, metrics_from, rootfs)" },
	{ "unknown-throttle-key.yaml",
	  "unknown-throttle-key.yaml:8:11: unknown key 'iops' in throttle (expected one of: bandwidth, ops)" },
	{ "unknown-top-key.yaml",
	  "unknown-top-key.yaml:3:1: unknown key 'descripton' in the top level (expected one of: vmorch, name, description, defaults, matrix, vms)" },
	{ "unknown-vm-key.yaml",
	  "unknown-vm-key.yaml:5:5: unknown key 'cpus' in vm (expected one of: name, vcpus, memory, guest, disks, workload, timeout, repeat, expect, placement)" },
	{ "unknown-workload-key.yaml",
	  "unknown-workload-key.yaml:7:7: unknown key 'qdepth' in workload (expected one of: pattern, bs, ops, qd, rwmix, flush, seed, verify, completion, event_idx, indirect, hostile, span)" },
	{ "vcpus-junk.yaml",
	  "vcpus-junk.yaml:5:12: bad number 'two' (expected a whole number)" },
	{ "vcpus-mapping.yaml",
	  "vcpus-mapping.yaml:5:12: 'vcpus' must be a whole number, not a mapping" },
	{ "vcpus-range.yaml",
	  "vcpus-range.yaml:5:12: vcpus 65 out of range (expected 1..64)" },
	{ "verify-number.yaml",
	  "verify-number.yaml:6:15: bad verify '1' (expected true or false)" },
	{ "version-2.yaml",
	  "version-2.yaml:1:9: unsupported format version '2' (expected vmorch: 1)" },
	{ "version-mapping.yaml",
	  "version-mapping.yaml:1:9: 'vmorch' must be the format version 1, not a mapping" },
	{ "vm-missing-name.yaml",
	  "vm-missing-name.yaml:4:5: missing required key 'name' in vm" },
	{ "vm-scalar.yaml",
	  "vm-scalar.yaml:4:5: 'vm' must be a mapping, not a single value" },
	{ "vms-empty.yaml",
	  "vms-empty.yaml:3:6: 'vms' must not be empty" },
	{ "vms-mapping.yaml",
	  "vms-mapping.yaml:4:3: 'vms' must be a list, not a mapping" },
	{ "workload-list.yaml",
	  "workload-list.yaml:5:15: 'workload' must be a mapping, not a list" },
};

/* Each bad file is refused with exactly its message, position included. */
static void test_bad_files_exact_messages(void **state)
{
	char dir[PATH_MAX], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	fixture_path(dir, sizeof(dir), "tests/scenarios", "bad");
	/* Load by bare name so that the message starts with just the file name. */
	assert_int_equal(chdir(dir), 0);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct scenario *s = (struct scenario *)1;
		struct verr e = { "" };
		int r = scenario_load(bad_cases[i].file, &s, &e);

		if (r == 0 || strcmp(e.msg, bad_cases[i].msg) != 0)
			print_error("%s:\n  got:  %s\n  want: %s\n", bad_cases[i].file,
				    e.msg, bad_cases[i].msg);
		assert_int_not_equal(r, 0);
		assert_null(s);
		assert_string_equal(e.msg, bad_cases[i].msg);
	}
	assert_int_equal(chdir(cwd), 0);
}

/* Every file in tests/scenarios/bad/ has a row in the table, and the table
 * covers at least 40 distinct mistakes. */
static void test_bad_table_covers_every_file(void **state)
{
	char dir[PATH_MAX], cmd[PATH_MAX + 64];
	size_t nfiles = 0;
	FILE *p;

	fixture_path(dir, sizeof(dir), "tests/scenarios", "bad");
	snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(cmd, sizeof(cmd), p)) {
		bool found = false;

		cmd[strcspn(cmd, "\n")] = 0;
		for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
			found |= strcmp(bad_cases[i].file, cmd) == 0;
		if (!found)
			print_error("no expectation for %s\n", cmd);
		assert_true(found);
		nfiles++;
	}
	pclose(p);
	assert_int_equal(nfiles, sizeof(bad_cases) / sizeof(bad_cases[0]));
	assert_true(nfiles >= 40);
}

static int load_text(const char *text, struct verr *e)
{
	struct scenario *s = NULL;
	int r = scenario_load_buffer("mem.yaml", text, strlen(text), &s, e);

	scenario_free(s);
	return r;
}

/* Nesting is bounded, so a hostile file cannot exhaust the stack. */
static void test_deep_nesting_refused(void **state)
{
	char text[256] = "vmorch: 1\nname: t\nvms: ";
	struct verr e = { "" };

	for (int i = 0; i < 40; i++)
		strcat(text, "[");
	assert_int_equal(load_text(text, &e), -EINVAL);
	assert_string_equal(e.msg, "mem.yaml:3:37: nesting deeper than 32 levels");
}

/* A file over 1 MiB is refused before it is parsed. */
static void test_large_file_refused(void **state)
{
	char path[] = "/tmp/vmorch-test-XXXXXX";
	char want[128];
	struct scenario *s = NULL;
	struct verr e = { "" };
	char *big;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	big = malloc(SCENARIO_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '#', SCENARIO_FILE_MAX + 1);
	assert_int_equal(write(fd, big, SCENARIO_FILE_MAX + 1), SCENARIO_FILE_MAX + 1);
	close(fd);
	assert_int_equal(scenario_load(path, &s, &e), -EFBIG);
	assert_null(s);
	snprintf(want, sizeof(want), "%s: file too large (more than 1048576 bytes)", path);
	assert_string_equal(e.msg, want);
	assert_int_equal(scenario_load_buffer("mem.yaml", big, SCENARIO_FILE_MAX + 1,
					      &s, &e), -EFBIG);
	assert_string_equal(e.msg, "mem.yaml: file too large (1048577 bytes, at most 1048576)");
	unlink(path);
	free(big);
}

/* A missing file names the file and the system's reason. */
static void test_missing_file(void **state)
{
	struct scenario *s = NULL;
	struct verr e = { "" };

	assert_int_equal(scenario_load("/nonexistent/x.yaml", &s, &e), -ENOENT);
	assert_null(s);
	assert_string_equal(e.msg, "/nonexistent/x.yaml: cannot open: No such file or directory");
}

/* A file that is exactly the limit is read and judged on its content. */
static void test_limit_sized_file_parsed(void **state)
{
	const char *head = "vmorch: 1\nname: big\nvms:\n  - name: a\n";
	char *buf = malloc(SCENARIO_FILE_MAX);
	struct scenario *s = NULL;
	struct verr e = { "" };

	assert_non_null(buf);
	memset(buf, '\n', SCENARIO_FILE_MAX);
	memcpy(buf, head, strlen(head));
	buf[SCENARIO_FILE_MAX - 2] = '#';
	assert_int_equal(scenario_load_buffer("mem.yaml", buf, SCENARIO_FILE_MAX, &s, &e), 0);
	assert_int_equal(scenario_njobs(s), 1);
	scenario_free(s);
	free(buf);
}

/* A UTF-16 file (with its byte order mark) is not taken for YAML. */
static void test_utf16_refused(void **state)
{
	static const char text[] = "\xff\xfev\0m\0o\0r\0c\0h\0:\0 \0001\0\n\0";
	struct scenario *s = NULL;
	struct verr e = { "" };

	assert_int_equal(scenario_load_buffer("mem.yaml", text, sizeof(text) - 1,
					      &s, &e), -EINVAL);
	assert_string_equal(e.msg, "mem.yaml:1:1: file is not UTF-8 text (byte 0xff)");
}

/* A NUL written as an escape in a quoted string is refused, not truncated. */
static void test_escaped_nul_refused(void **state)
{
	struct verr e = { "" };

	assert_int_equal(load_text("vmorch: 1\nname: \"a\\0b\"\nvms: [{name: a}]\n", &e),
			 -EINVAL);
	assert_string_equal(e.msg, "mem.yaml:2:7: NUL characters are not allowed");
}

/* ---- valid files: the exact job list ---- */

static struct job_desc *expand_good(const char *file, size_t *n, struct scenario **sp)
{
	char path[PATH_MAX];
	struct scenario *s = NULL;
	struct job_desc *jobs = NULL;
	struct verr e = { "" };

	fixture_path(path, sizeof(path), "tests/scenarios/good", file);
	if (scenario_load(path, &s, &e) || scenario_expand(s, &jobs, n, &e))
		print_error("%s\n", e.msg);
	assert_non_null(s);
	assert_non_null(jobs);
	assert_int_equal(*n, scenario_njobs(s));
	*sp = s;
	return jobs;
}

static void assert_bucket(const struct job_bucket *b, uint64_t size,
			  uint64_t burst, uint64_t refill_ms)
{
	assert_int_equal(b->size, size);
	assert_int_equal(b->one_time_burst, burst);
	assert_int_equal(b->refill_time_ms, refill_ms);
}

static void assert_check(const struct expect_check *c, const char *name,
			 enum expect_op op, double value, const char *text)
{
	assert_string_equal(c->name, name);
	assert_int_equal(c->op, op);
	assert_true(c->value == value);
	assert_string_equal(c->text, text);
}

/* Every VM key left out takes its documented default. */
static void test_good_minimal_defaults(void **state)
{
	struct scenario *s;
	size_t n;
	struct job_desc *j = expand_good("minimal.yaml", &n, &s);
	char path[PATH_MAX];

	fixture_path(path, sizeof(path), "tests/scenarios/good", "minimal.yaml");
	assert_int_equal(n, 1);
	assert_string_equal(scenario_name(s), "minimal");
	assert_null(scenario_description(s));
	assert_string_equal(j[0].spec.name, "minimal/only#0");
	assert_string_equal(j[0].scenario, "minimal");
	assert_string_equal(j[0].scenario_file, path);
	assert_string_equal(j[0].vm, "only");
	assert_int_equal(j[0].repeat, 0);
	assert_int_equal(j[0].nparams, 0);
	assert_int_equal(j[0].nexpect, 0);
	assert_int_equal(j[0].spec.vcpus, 1);
	assert_int_equal(j[0].spec.memory, 64ULL << 20);
	assert_int_equal(j[0].spec.timeout_ms, 30000);
	assert_int_equal(j[0].spec.guest.kind, JOB_GUEST_BUILTIN);
	assert_null(j[0].spec.workload);
	assert_int_equal(j[0].spec.ndisks, 0);
	job_descs_free(j, n);
	scenario_free(s);
}

/* Every key of the format, converted to exact numbers and strings. */
static void test_good_full_every_key(void **state)
{
	char dir[PATH_MAX], want[PATH_MAX + 64];
	struct scenario *s;
	size_t n;
	struct job_desc *j = expand_good("full.yaml", &n, &s);

	fixture_path(want, sizeof(want), "tests/scenarios", "good");
	assert_non_null(realpath(want, dir));
	assert_int_equal(n, 4);
	assert_string_equal(scenario_name(s), "full-1.0");
	assert_string_equal(scenario_description(s), "Every key, once.\n");

	for (unsigned r = 0; r < 2; r++) {
		const struct job_desc *d = &j[r];

		snprintf(want, sizeof(want), "full-1.0/builtin.all-words#%u", r);
		assert_string_equal(d->spec.name, want);
		assert_string_equal(d->vm, "builtin.all-words");
		assert_int_equal(d->repeat, r);
		assert_int_equal(d->spec.vcpus, 2);		/* from defaults */
		assert_int_equal(d->spec.memory, 1ULL << 30);
		assert_int_equal(d->spec.timeout_ms, 120000);
		assert_string_equal(d->spec.workload,
				    "pattern=randrw bs=8192 ops=5000 qd=32 rwmix=70 "
				    "flush=100 seed=12345 verify=1 completion=irq "
				    "event_idx=0 indirect=1 hostile=none span=1048576");
		assert_int_equal(d->spec.ndisks, 2);
		assert_null(d->spec.disk[0].path);
		assert_int_equal(d->spec.disk[0].size, 64ULL << 20);
		assert_false(d->spec.disk[0].read_only);
		assert_string_equal(d->spec.disk[0].serial, "vmorch-disk-0");
		assert_bucket(&d->spec.disk[0].bw, 4ULL << 20, 1ULL << 20, 500);
		assert_bucket(&d->spec.disk[0].ops, 1000, 50, 1000);
		snprintf(want, sizeof(want), "%s/images/data.raw", dir);
		assert_string_equal(d->spec.disk[1].path, want);
		assert_int_equal(d->spec.disk[1].size, 0);
		assert_true(d->spec.disk[1].read_only);
		assert_string_equal(d->spec.disk[1].serial, "");
		assert_bucket(&d->spec.disk[1].bw, 0, 0, 0);
		assert_bucket(&d->spec.disk[1].ops, 10, 0, 10);
		/* The VM's own expect replaces the defaults' mapping entirely. */
		assert_int_equal(d->nexpect, 5);
		assert_check(&d->expect[0], "reads_completed", EXPECT_GE, 1000, ">= 1000");
		assert_check(&d->expect[1], "disk1.bytes_read", EXPECT_LT, 4194304, "< 4M");
		assert_check(&d->expect[2], "disk0.throttled_count", EXPECT_NE, 3, "!= 3");
		assert_check(&d->expect[3], "iops", EXPECT_GT, 0.5, "> 0.5");
		assert_check(&d->expect[4], "verify_errors", EXPECT_LE, 0, "<= 0");
		assert_int_equal(d->nlabels, 2);
		assert_string_equal(d->label[0], "nvme");
		assert_string_equal(d->label[1], "amd");
	}

	assert_string_equal(j[2].spec.name, "full-1.0/linux#0");
	assert_int_equal(j[2].spec.vcpus, 4);
	assert_int_equal(j[2].spec.memory, 128ULL << 20);
	assert_int_equal(j[2].spec.timeout_ms, 3600000);
	assert_int_equal(j[2].spec.guest.kind, JOB_GUEST_LINUX);
	snprintf(want, sizeof(want), "%s/../kernels/vmlinux", dir);
	assert_string_equal(j[2].spec.guest.kernel, want);
	assert_null(j[2].spec.guest.initramfs);
	snprintf(want, sizeof(want), "%s/modules.cpio", dir);
	assert_string_equal(j[2].spec.guest.modules, want);
	assert_string_equal(j[2].spec.guest.cmdline, "quiet loglevel=3");
	assert_int_equal(j[2].spec.guest.nfiles, 2);
	assert_string_equal(j[2].spec.guest.files[0].src, "/usr/bin/fio");
	assert_string_equal(j[2].spec.guest.files[0].dst, "/usr/bin/fio");
	snprintf(want, sizeof(want), "%s/tests/mytest.sh", dir);
	assert_string_equal(j[2].spec.guest.files[1].src, want);
	assert_string_equal(j[2].spec.guest.files[1].dst, "/opt/mytest.sh");
	assert_int_equal(j[2].spec.guest.run_argc, 0);
	assert_null(j[2].spec.workload);
	assert_int_equal(j[2].spec.ndisks, 1);
	assert_int_equal(j[2].spec.disk[0].size, 1ULL << 40);
	assert_int_equal(j[2].nexpect, 1);
	assert_check(&j[2].expect[0], "io_errors", EXPECT_EQ, 0, "== 0");
	assert_int_equal(j[2].nlabels, 0);

	assert_string_equal(j[3].spec.name, "full-1.0/own-initramfs#0");
	snprintf(want, sizeof(want), "%s/../kernels/vmlinux", dir);
	assert_string_equal(j[3].spec.guest.kernel, want);
	assert_string_equal(j[3].spec.guest.initramfs, "/srv/vmorch/initramfs.cpio.gz");
	assert_int_equal(j[3].spec.guest.nfiles, 0);
	job_descs_free(j, n);
	scenario_free(s);
}

/* run: a whole "${qd}" takes the matrix value, "${disk0}" and "${HOME}" stay. */
static void test_good_run(void **state)
{
	struct scenario *s;
	size_t n;
	struct job_desc *j = expand_good("run.yaml", &n, &s);

	(void)state;
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 2; i++) {
		const char *const want[] = { "fio", "--name=r", "--filename=${disk0}",
					     "--iodepth", i ? "16" : "1", "--x=${HOME}" };

		assert_int_equal(j[i].spec.guest.run_argc, 6);
		for (size_t k = 0; k < 6; k++)
			assert_string_equal(j[i].spec.guest.run_argv[k], want[k]);
		assert_int_equal(j[i].spec.guest.metrics_from, JOB_METRICS_FIO_JSON);
		assert_null(j[i].spec.workload);
		assert_null(j[i].spec.guest.rootfs);
	}
	assert_int_equal(j[2].spec.guest.run_argc, 0);
	assert_string_equal(j[2].spec.guest.run_shell, "echo VMORCH-METRIC user.answer 42");
	assert_non_null(strstr(j[2].spec.guest.rootfs, "/tests/scenarios/good/images/debian.raw"));
	assert_int_equal(j[2].spec.guest.metrics_from, JOB_METRICS_LINES);
	job_descs_free(j, n);
	scenario_free(s);
}

/* The cross product in key order, last key fastest, each VM over the keys
 * it uses; then repeats.  A job's name lists the keys by name (jobname.h). */
static void test_good_matrix_order_and_params(void **state)
{
	static const char *const rr[] = {
		"sweep/rr[bs=4k,mem=64M,qd=1]#0", "sweep/rr[bs=4k,mem=256M,qd=1]#0",
		"sweep/rr[bs=4k,mem=64M,qd=8]#0", "sweep/rr[bs=4k,mem=256M,qd=8]#0",
		"sweep/rr[bs=4k,mem=64M,qd=32]#0", "sweep/rr[bs=4k,mem=256M,qd=32]#0",
		"sweep/rr[bs=64k,mem=64M,qd=1]#0", "sweep/rr[bs=64k,mem=256M,qd=1]#0",
		"sweep/rr[bs=64k,mem=64M,qd=8]#0", "sweep/rr[bs=64k,mem=256M,qd=8]#0",
		"sweep/rr[bs=64k,mem=64M,qd=32]#0", "sweep/rr[bs=64k,mem=256M,qd=32]#0",
		"sweep/fixed[qd=1]#0", "sweep/fixed[qd=1]#1",
		"sweep/fixed[qd=8]#0", "sweep/fixed[qd=8]#1",
		"sweep/fixed[qd=32]#0", "sweep/fixed[qd=32]#1",
	};
	struct scenario *s;
	size_t n;
	struct job_desc *j = expand_good("matrix.yaml", &n, &s);

	assert_int_equal(n, 18);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(j[i].spec.name, rr[i]);
		assert_int_equal(j[i].spec.ndisks, 1);
		assert_int_equal(j[i].spec.disk[0].size, 16ULL << 20);
	}
	/* rr, bs=64k qd=8 mem=256M */
	assert_string_equal(j[9].vm, "rr");
	assert_int_equal(j[9].nparams, 3);
	assert_string_equal(j[9].param[0].key, "bs");
	assert_string_equal(j[9].param[0].value, "64k");
	assert_string_equal(j[9].param[1].key, "qd");
	assert_string_equal(j[9].param[1].value, "8");
	assert_string_equal(j[9].param[2].key, "mem");
	assert_string_equal(j[9].param[2].value, "256M");
	assert_int_equal(j[9].spec.memory, 256ULL << 20);
	assert_string_equal(j[9].spec.workload, "pattern=randread bs=65536 qd=8");
	/* fixed, qd=32, second repeat: memory is its own, not the matrix's */
	assert_string_equal(j[17].vm, "fixed");
	assert_int_equal(j[17].repeat, 1);
	assert_int_equal(j[17].nparams, 1);
	assert_string_equal(j[17].param[0].key, "qd");
	assert_string_equal(j[17].param[0].value, "32");
	assert_int_equal(j[17].spec.memory, 32ULL << 20);
	assert_string_equal(j[17].spec.workload, "pattern=seqwrite qd=32");
	job_descs_free(j, n);
	scenario_free(s);
}

/* ---- shipped scenarios ---- */

static struct job_desc *expand_shipped(const char *file, size_t *n)
{
	char path[PATH_MAX];
	struct scenario *s = NULL;
	struct job_desc *jobs = NULL;
	struct verr e = { "" };

	fixture_path(path, sizeof(path), "scenarios", file);
	if (scenario_load(path, &s, &e) || scenario_expand(s, &jobs, n, &e))
		print_error("%s\n", e.msg);
	assert_non_null(jobs);
	scenario_free(s);
	return jobs;
}

static const struct expect_check *find_check(const struct job_desc *j,
					     const char *name)
{
	for (unsigned i = 0; i < j->nexpect; i++)
		if (strcmp(j->expect[i].name, name) == 0)
			return &j->expect[i];
	return NULL;
}

/* smoke.yaml: read, write + flush, verify, throttle and one hostile mode. */
static void test_shipped_smoke(void **state)
{
	size_t n;
	struct job_desc *j = expand_shipped("smoke.yaml", &n);

	assert_int_equal(n, 5);
	assert_string_equal(j[0].spec.name, "smoke/randread#0");
	assert_string_equal(j[0].spec.workload, "pattern=randread bs=4096 ops=1000 qd=16 seed=1");
	assert_check(find_check(&j[0], "reads_completed"), "reads_completed", EXPECT_EQ, 1000, "== 1000");
	assert_check(find_check(&j[0], "bytes_read"), "bytes_read", EXPECT_EQ, 4096000, "== 4096000");
	assert_check(find_check(&j[0], "io_errors"), "io_errors", EXPECT_EQ, 0, "== 0");
	assert_string_equal(j[1].spec.workload, "pattern=seqwrite bs=65536 ops=256 qd=4 flush=64");
	assert_non_null(strstr(j[2].spec.workload, "verify=1"));
	assert_bucket(&j[3].spec.disk[0].ops, 20, 0, 50);
	assert_check(find_check(&j[3], "throttled_count"), "throttled_count", EXPECT_GT, 0, "> 0");
	assert_int_equal(j[4].spec.ndisks, 2);
	assert_string_equal(j[4].spec.workload, "hostile=bad_type");
	assert_check(find_check(&j[4], "disk0.io_errors"), "disk0.io_errors", EXPECT_EQ, 1, "== 1");
	job_descs_free(j, n);
}

/* linux-fio.yaml: fio in a rootfs, its figures expected, one disk throttled. */
static void test_shipped_linux_fio(void **state)
{
	size_t n;
	struct job_desc *j = expand_shipped("linux-fio.yaml", &n);

	(void)state;
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(j[i].spec.guest.kind, JOB_GUEST_LINUX);
		assert_int_equal(j[i].spec.guest.run_argc, 10);
		assert_string_equal(j[i].spec.guest.run_argv[2], "--filename=${disk0}");
		assert_int_equal(j[i].spec.guest.metrics_from, JOB_METRICS_FIO_JSON);
		assert_non_null(strstr(j[i].spec.guest.rootfs, "/scenarios/linux/fio.raw"));
		assert_null(j[i].spec.workload);
		assert_check(find_check(&j[i], "fio.r.read.total_ios"), "fio.r.read.total_ios",
			     EXPECT_EQ, 1000, "== 1000");
	}
	assert_bucket(&j[1].spec.disk[0].ops, 100, 0, 100);
	assert_check(find_check(&j[1], "fio.r.read.iops"), "fio.r.read.iops", EXPECT_LE, 1100,
		     "<= 1100");
	job_descs_free(j, n);
}

/* hostile.yaml: every mode but bad_insn, each with its exact bumps on disk 0. */
static void test_shipped_hostile(void **state)
{
	static const char *const modes[] = {
		"invalid_avail_idx", "desc_loop", "oob_addr", "bad_type",
		"short_header", "no_status", "ro_write", "zero_len",
	};
	size_t n;
	struct job_desc *j = expand_shipped("hostile.yaml", &n);

	assert_int_equal(n, 8);
	for (size_t i = 0; i < n; i++) {
		char wl[64];

		snprintf(wl, sizeof(wl), "hostile=%s", modes[i]);
		assert_string_equal(j[i].spec.workload, wl);
		if (i == 0) {
			assert_check(find_check(&j[i], "disk0.invalid_avail_idx_count"),
				     "disk0.invalid_avail_idx_count", EXPECT_EQ, 1, "== 1");
			assert_check(find_check(&j[i], "disk0.reads_completed"),
				     "disk0.reads_completed", EXPECT_EQ, 1, "== 1");
		} else {
			assert_check(find_check(&j[i], "disk0.io_errors"),
				     "disk0.io_errors", EXPECT_EQ, 1, "== 1");
		}
		assert_int_equal(j[i].spec.disk[0].read_only,
				 strcmp(modes[i], "ro_write") == 0);
	}
	job_descs_free(j, n);
}

/* throttle.yaml and matrix.yaml load and expand to their job counts. */
static void test_shipped_throttle_and_matrix(void **state)
{
	size_t n;
	struct job_desc *j = expand_shipped("throttle.yaml", &n);

	assert_int_equal(n, 4);
	assert_bucket(&j[0].spec.disk[0].bw, 2ULL << 20, 0, 500);
	assert_bucket(&j[1].spec.disk[0].ops, 200, 100, 1000);
	job_descs_free(j, n);

	j = expand_shipped("matrix.yaml", &n);
	assert_int_equal(n, 9);
	assert_string_equal(j[0].spec.name, "matrix/randread[bs=512,qd=1]#0");
	assert_string_equal(j[8].spec.name, "matrix/randread[bs=64k,qd=32]#0");
	assert_string_equal(j[8].spec.workload, "pattern=randread bs=65536 ops=1000 qd=32 seed=42");
	job_descs_free(j, n);
}

/* ---- reading files: once, and each file once per run ---- */

static const char small_text[] =
	"vmorch: 1\nname: piped\ndescription: from a pipe\n"
	"vms:\n  - name: a\n";

struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *t)
{
	strcpy(t->path, "/tmp/vmorch-scn-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmpdir_remove(struct tmpdir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	if (system(cmd) != 0)
		print_error("could not remove %s\n", t->path);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/*
 * A child that writes @text into the FIFO @path in two pieces, 50 ms apart,
 * then exits; alarm() bounds it if nobody ever reads.
 */
static pid_t fifo_writer(const char *path, const char *text)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		size_t half = strlen(text) / 2;
		int fd;

		alarm(20);
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, text, half) != (ssize_t)half)
			_exit(1);
		usleep(50 * 1000);
		if (write(fd, text + half, strlen(text) - half) !=
		    (ssize_t)(strlen(text) - half))
			_exit(1);
		_exit(0);
	}
	return pid;
}

static void child_reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A FIFO is read once, to its end, and the hash is of exactly those bytes. */
static void test_fifo_hash_is_of_bytes_parsed(void **state)
{
	struct tmpdir t;
	char fifo[PATH_MAX], want[65];
	struct scenario *s = NULL;
	struct verr e = { "" };
	pid_t w;

	tmpdir_make(&t);
	snprintf(fifo, sizeof(fifo), "%s/s.yaml", t.path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	w = fifo_writer(fifo, small_text);
	alarm(30);
	if (scenario_load(fifo, &s, &e))
		print_error("%s\n", e.msg);
	alarm(0);
	child_reap(w);
	assert_non_null(s);
	sha256_hex(small_text, strlen(small_text), want);
	assert_string_equal(scenario_sha256(s), want);
	assert_string_equal(scenario_name(s), "piped");
	assert_string_equal(scenario_description(s), "from a pipe");
	scenario_free(s);
	tmpdir_remove(&t);
}

/* From memory too: the hash of the buffer, e3b0... only for no bytes at all. */
static void test_buffer_hash(void **state)
{
	static const char text[] = "vmorch: 1\nname: m\nvms: [{name: a}]\n";
	struct scenario *s = NULL;
	struct verr e = { "" };
	char want[65];

	assert_int_equal(scenario_load_buffer("mem.yaml", text, strlen(text), &s, &e), 0);
	sha256_hex(text, strlen(text), want);
	assert_string_equal(scenario_sha256(s), want);
	assert_string_not_equal(want, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	scenario_free(s);
}

static const char *vmorch_path(void)
{
	static char p[PATH_MAX];
	const char *b = getenv("VMORCH_BUILDDIR");

	snprintf(p, sizeof(p), "%s/orchestrator/vmorch", b && *b ? b : ".");
	return p;
}

/*
 * Run vmorch with @argv, output (both streams) into @out; at most 20 s.
 * Returns its exit status.
 */
static int vmorch_run(const char *const argv[], char *out, size_t cap)
{
	int fd[2], status;
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		execv(vmorch_path(), (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	while (n < cap - 1 && (got = read(fd[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)got;
	out[n] = 0;
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * `vmorch validate` on a FIFO waits for its writer, reads it once and prints
 * the hash of what it read; the same FIFO given twice is refused unopened.
 */
static void test_validate_fifo(void **state)
{
	struct tmpdir t;
	char fifo[128], out[2048], want[512], hex[65];
	size_t n;
	pid_t w;

	tmpdir_make(&t);
	snprintf(fifo, sizeof(fifo), "%s/s.yaml", t.path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	sha256_hex(small_text, strlen(small_text), hex);

	w = fifo_writer(fifo, small_text);
	{
		const char *argv[] = { "vmorch", "validate", fifo, NULL };

		assert_int_equal(vmorch_run(argv, out, sizeof(out)), 0);
	}
	child_reap(w);
	snprintf(want, sizeof(want), "%s: ok, 1 job, sha256 %s\n", fifo, hex);
	assert_string_equal(out, want);

	w = fifo_writer(fifo, small_text);
	{
		const char *argv[] = { "vmorch", "validate", fifo, fifo, NULL };

		assert_int_equal(vmorch_run(argv, out, sizeof(out)), 2);
	}
	child_reap(w);
	/* stdout and stderr share the pipe: each line whole, in either order. */
	snprintf(want, sizeof(want), "%s: ok, 1 job, sha256 %s\n", fifo, hex);
	assert_non_null(strstr(out, want));
	n = strlen(want);
	snprintf(want, sizeof(want), "%s: given twice (each scenario file may be given once)\n",
		 fifo);
	assert_non_null(strstr(out, want));
	assert_int_equal(strlen(out), n + strlen(want));
	tmpdir_remove(&t);
}

/* A directory or a block device is not read as a scenario. */
static void test_directory_refused(void **state)
{
	struct scenario *s = NULL;
	struct verr e = { "" };

	assert_int_equal(scenario_load("/tmp", &s, &e), -EISDIR);
	assert_null(s);
	assert_string_equal(e.msg, "/tmp: is a directory (expected a scenario file, a pipe or a stream)");
}

/* Same path, same file by another path, same scenario name: all refused. */
static void test_set_refuses_duplicates(void **state)
{
	static const char other[] = "vmorch: 1\nname: other\nvms: [{name: a}]\n";
	struct scenario_set set = { NULL, 0 };
	struct tmpdir t;
	char a[PATH_MAX], link[PATH_MAX], copy[PATH_MAX], b[PATH_MAX];
	char want[3 * PATH_MAX];
	struct verr e = { "" };

	tmpdir_make(&t);
	write_file(t.path, "a.yaml", small_text);
	write_file(t.path, "copy.yaml", small_text);
	write_file(t.path, "b.yaml", other);
	snprintf(a, sizeof(a), "%s/a.yaml", t.path);
	snprintf(link, sizeof(link), "%s/link.yaml", t.path);
	snprintf(copy, sizeof(copy), "%s/copy.yaml", t.path);
	snprintf(b, sizeof(b), "%s/b.yaml", t.path);
	assert_int_equal(symlink("a.yaml", link), 0);

	assert_int_equal(scenario_set_add(&set, a, &e), 0);
	assert_int_equal(scenario_set_add(&set, a, &e), -EEXIST);
	snprintf(want, sizeof(want), "%s: given twice (each scenario file may be given once)", a);
	assert_string_equal(e.msg, want);
	assert_int_equal(scenario_set_add(&set, link, &e), -EEXIST);
	snprintf(want, sizeof(want), "%s: same file as %s (each scenario file may be given once)",
		 link, a);
	assert_string_equal(e.msg, want);
	assert_int_equal(scenario_set_add(&set, copy, &e), -EEXIST);
	snprintf(want, sizeof(want), "%s: scenario name 'piped' is also the name of %s "
		 "(jobs of one name would be merged; rename one)", copy, a);
	assert_string_equal(e.msg, want);
	assert_int_equal(scenario_set_add(&set, b, &e), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(scenario_name(set.s[0]), "piped");
	assert_string_equal(scenario_name(set.s[1]), "other");
	scenario_set_release(&set);
	assert_int_equal(set.n, 0);
	tmpdir_remove(&t);
}

/*
 * `vmorch run` with one file twice or two files of one name stops at
 * loading: exit 2 naming both, and no database is created.
 */
static void test_run_duplicate_files_exit_2(void **state)
{
	static const char other[] = "vmorch: 1\nname: piped\nvms: [{name: b}]\n";
	struct tmpdir t;
	char a[128], b[128], db[128], out[2048], want[512];
	struct stat st;

	tmpdir_make(&t);
	write_file(t.path, "a.yaml", small_text);
	write_file(t.path, "b.yaml", other);
	snprintf(a, sizeof(a), "%s/a.yaml", t.path);
	snprintf(b, sizeof(b), "%s/b.yaml", t.path);
	snprintf(db, sizeof(db), "%s/v.db", t.path);
	{
		const char *argv[] = { "vmorch", "run", "--db", db, a, a, NULL };

		assert_int_equal(vmorch_run(argv, out, sizeof(out)), 2);
	}
	snprintf(want, sizeof(want), "%s: given twice (each scenario file may be given once)\n", a);
	assert_string_equal(out, want);
	{
		const char *argv[] = { "vmorch", "run", "--db", db, a, b, NULL };

		assert_int_equal(vmorch_run(argv, out, sizeof(out)), 2);
	}
	snprintf(want, sizeof(want), "%s: scenario name 'piped' is also the name of %s "
		 "(jobs of one name would be merged; rename one)\n", b, a);
	assert_string_equal(out, want);
	assert_int_equal(stat(db, &st), -1);
	assert_int_equal(errno, ENOENT);
	tmpdir_remove(&t);
}

/* ---- disks checked against what is on the host ---- */

/* Some block device under /dev, or NULL (then the test skips). */
static const char *find_block_device(char *buf, size_t len)
{
	static const char *const names[] = {
		"loop0", "vda", "sda", "nvme0n1", "zram0", "ram0", "xvda", NULL
	};
	struct stat st;

	for (size_t i = 0; names[i]; i++) {
		snprintf(buf, len, "/dev/%s", names[i]);
		if (stat(buf, &st) == 0 && S_ISBLK(st.st_mode))
			return buf;
	}
	return NULL;
}

static const char blk_text[] =
	"vmorch: 1\nname: blk\nvms:\n  - name: a\n    disks:\n"
	"      - image: disk.img\n";

/* A block device, even behind a symlink, needs allow_block_device: true. */
static void test_block_device_image_needs_allow(void **state)
{
	struct scenario *s = NULL;
	struct job_desc *j = NULL;
	struct verr e = { "" };
	struct tmpdir t;
	char dev[64], path[PATH_MAX], img[PATH_MAX], want[PATH_MAX + 256];
	char text[256];
	size_t n;

	if (!find_block_device(dev, sizeof(dev)))
		skip();
	tmpdir_make(&t);
	snprintf(img, sizeof(img), "%s/disk.img", t.path);
	assert_int_equal(symlink(dev, img), 0);
	write_file(t.path, "s.yaml", blk_text);
	snprintf(path, sizeof(path), "%s/s.yaml", t.path);
	assert_int_equal(scenario_load(path, &s, &e), -EINVAL);
	assert_null(s);
	snprintf(want, sizeof(want), "%s:6:16: image 'disk.img' is a block device; "
		 "writing to it destroys what it holds (set allow_block_device: true "
		 "on this disk if that is meant)", path);
	assert_string_equal(e.msg, want);

	snprintf(text, sizeof(text), "%s        allow_block_device: true\n", blk_text);
	write_file(t.path, "s.yaml", text);
	if (scenario_load(path, &s, &e) || scenario_expand(s, &j, &n, &e))
		print_error("%s\n", e.msg);
	assert_non_null(j);
	assert_int_equal(n, 1);
	assert_true(j[0].spec.disk[0].allow_block_device);
	assert_string_equal(j[0].spec.disk[0].path, img);
	job_descs_free(j, n);
	scenario_free(s);
	tmpdir_remove(&t);
}

/* A plain image is not a block device, and its size bounds the span. */
static void test_image_size_bounds_span(void **state)
{
	static const char fmt[] =
		"vmorch: 1\nname: img\nvms:\n  - name: a\n    disks:\n"
		"      - image: disk.img\n    workload: {ops: 10, span: %s}\n";
	struct scenario *s = NULL;
	struct job_desc *j = NULL;
	struct verr e = { "" };
	struct tmpdir t;
	char path[PATH_MAX], img[PATH_MAX], text[256], want[PATH_MAX + 128];
	size_t n;
	int fd;

	tmpdir_make(&t);
	snprintf(img, sizeof(img), "%s/disk.img", t.path);
	fd = open(img, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/s.yaml", t.path);

	snprintf(text, sizeof(text), fmt, "2M");
	write_file(t.path, "s.yaml", text);
	assert_int_equal(scenario_load(path, &s, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s:7:31: span 2M is larger than disk 0 "
		 "(1048576 bytes, at 6:16)", path);
	assert_string_equal(e.msg, want);

	snprintf(text, sizeof(text), fmt, "1M");
	write_file(t.path, "s.yaml", text);
	if (scenario_load(path, &s, &e) || scenario_expand(s, &j, &n, &e))
		print_error("%s\n", e.msg);
	assert_non_null(j);
	assert_false(j[0].spec.disk[0].allow_block_device);
	assert_string_equal(j[0].spec.workload, "ops=10 span=1048576");
	job_descs_free(j, n);
	scenario_free(s);
	tmpdir_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files_exact_messages),
		cmocka_unit_test(test_bad_table_covers_every_file),
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_large_file_refused),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_limit_sized_file_parsed),
		cmocka_unit_test(test_utf16_refused),
		cmocka_unit_test(test_escaped_nul_refused),
		cmocka_unit_test(test_good_minimal_defaults),
		cmocka_unit_test(test_good_full_every_key),
		cmocka_unit_test(test_good_matrix_order_and_params),
		cmocka_unit_test(test_good_run),
		cmocka_unit_test(test_shipped_smoke),
		cmocka_unit_test(test_shipped_linux_fio),
		cmocka_unit_test(test_shipped_hostile),
		cmocka_unit_test(test_shipped_throttle_and_matrix),
		cmocka_unit_test(test_fifo_hash_is_of_bytes_parsed),
		cmocka_unit_test(test_buffer_hash),
		cmocka_unit_test(test_validate_fifo),
		cmocka_unit_test(test_directory_refused),
		cmocka_unit_test(test_set_refuses_duplicates),
		cmocka_unit_test(test_run_duplicate_files_exit_2),
		cmocka_unit_test(test_block_device_image_needs_allow),
		cmocka_unit_test(test_image_size_bounds_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
