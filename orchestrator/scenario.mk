# orchestrator/scenario.mk - scenario files: the positioned YAML tree the
# scenario and inventory loaders share, units, expectations, the loader and
# matrix expansion (libscenario.a), their tests, fixtures, shipped scenarios
# and the format's reference.
# Included from the top-level Makefile.am (non-recursive build).

noinst_LIBRARIES += orchestrator/libscenario.a
orchestrator_libscenario_a_SOURCES = \
	orchestrator/scenario.c orchestrator/scenario.h \
	orchestrator/scenario_matrix.c orchestrator/scenario_priv.h \
	orchestrator/ytree.c orchestrator/ytree.h \
	orchestrator/ytree_get.c orchestrator/ytree_get.h \
	orchestrator/units.c orchestrator/units.h \
	orchestrator/expect.c orchestrator/expect.h \
	orchestrator/jobname.c orchestrator/jobname.h \
	orchestrator/jobdesc.h \
	orchestrator/interleave.c orchestrator/interleave.h
orchestrator_libscenario_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)

SCENARIO_LIBS = orchestrator/libscenario.a $(YAML_LIBS)

check_PROGRAMS += tests/test_scenario tests/test_units
tests_test_scenario_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
tests_test_scenario_LDADD = $(SCENARIO_LIBS) $(TEST_LIBS)
tests_test_units_CFLAGS = $(TEST_CFLAGS)
tests_test_units_LDADD = $(SCENARIO_LIBS) $(TEST_LIBS)

dist_man5_MANS = doc/vmorch-scenario.5

scenariodir = $(pkgdatadir)/scenarios
dist_scenario_DATA = \
	scenarios/smoke.yaml \
	scenarios/throttle.yaml \
	scenarios/hostile.yaml \
	scenarios/matrix.yaml \
	scenarios/linux-fio.yaml

# Fixtures, listed one by one (automake wants no wildcards).
EXTRA_DIST += doc/scenario.md \
	tests/scenarios/good/full.yaml \
	tests/scenarios/good/matrix.yaml \
	tests/scenarios/good/minimal.yaml \
	tests/scenarios/good/run.yaml \
	tests/scenarios/bad/alias.yaml \
	tests/scenarios/bad/placement-bad-label.yaml \
	tests/scenarios/bad/placement-empty.yaml \
	tests/scenarios/bad/placement-no-labels.yaml \
	tests/scenarios/bad/placement-not-map.yaml \
	tests/scenarios/bad/placement-twice.yaml \
	tests/scenarios/bad/placement-unknown-key.yaml \
	tests/scenarios/bad/allow-block-device-yes.yaml \
	tests/scenarios/bad/anchor.yaml \
	tests/scenarios/bad/bad-hostile.yaml \
	tests/scenarios/bad/bad-pattern.yaml \
	tests/scenarios/bad/bad-scenario-name.yaml \
	tests/scenarios/bad/bs-align.yaml \
	tests/scenarios/bad/bs-range.yaml \
	tests/scenarios/bad/bucket-no-refill.yaml \
	tests/scenarios/bad/bucket-ops-unit.yaml \
	tests/scenarios/bad/complex-key.yaml \
	tests/scenarios/bad/control-char.yaml \
	tests/scenarios/bad/defaults-bad-value.yaml \
	tests/scenarios/bad/defaults-unknown-key.yaml \
	tests/scenarios/bad/description-mapping.yaml \
	tests/scenarios/bad/disk-below-bs.yaml \
	tests/scenarios/bad/disk-no-size.yaml \
	tests/scenarios/bad/disk-size-align.yaml \
	tests/scenarios/bad/disk-size-and-image.yaml \
	tests/scenarios/bad/disks-empty.yaml \
	tests/scenarios/bad/disks-too-many.yaml \
	tests/scenarios/bad/dup-top-key.yaml \
	tests/scenarios/bad/dup-vm-name.yaml \
	tests/scenarios/bad/dup-workload-key.yaml \
	tests/scenarios/bad/empty.yaml \
	tests/scenarios/bad/expect-bad-comparison.yaml \
	tests/scenarios/bad/expect-bad-metric.yaml \
	tests/scenarios/bad/expect-bad-unit.yaml \
	tests/scenarios/bad/expect-bare-number.yaml \
	tests/scenarios/bad/expect-disk-index.yaml \
	tests/scenarios/bad/expect-mapping-value.yaml \
	tests/scenarios/bad/expect-metric-wrong-guest.yaml \
	tests/scenarios/bad/expect-no-disks.yaml \
	tests/scenarios/bad/expect-unknown-counter.yaml \
	tests/scenarios/bad/expect-unknown-metric.yaml \
	tests/scenarios/bad/guest-linux-word.yaml \
	tests/scenarios/bad/guest-files-not-list.yaml \
	tests/scenarios/bad/guest-files-bad-dst.yaml \
	tests/scenarios/bad/guest-files-no-src.yaml \
	tests/scenarios/bad/guest-metrics-from-bad.yaml \
	tests/scenarios/bad/guest-metrics-from-no-run.yaml \
	tests/scenarios/bad/guest-run-and-workload.yaml \
	tests/scenarios/bad/guest-run-disk1.yaml \
	tests/scenarios/bad/guest-rootfs-no-image.yaml \
	tests/scenarios/bad/guest-rootfs-no-run.yaml \
	tests/scenarios/bad/guest-run-empty.yaml \
	tests/scenarios/bad/guest-run-own-initramfs.yaml \
	tests/scenarios/bad/guest-files-own-initramfs.yaml \
	tests/scenarios/bad/guest-run-map-word.yaml \
	tests/scenarios/bad/guest-no-kernel.yaml \
	tests/scenarios/bad/image-directory.yaml \
	tests/scenarios/bad/matrix-bad-value.yaml \
	tests/scenarios/bad/matrix-dup-value.yaml \
	tests/scenarios/bad/matrix-empty-list.yaml \
	tests/scenarios/bad/matrix-no-matrix-ref.yaml \
	tests/scenarios/bad/matrix-partial-ref.yaml \
	tests/scenarios/bad/matrix-scalar.yaml \
	tests/scenarios/bad/matrix-unknown-ref.yaml \
	tests/scenarios/bad/matrix-unused-key.yaml \
	tests/scenarios/bad/matrix-value-chars.yaml \
	tests/scenarios/bad/memory-align.yaml \
	tests/scenarios/bad/memory-bad-unit.yaml \
	tests/scenarios/bad/memory-overflow.yaml \
	tests/scenarios/bad/memory-range.yaml \
	tests/scenarios/bad/missing-name.yaml \
	tests/scenarios/bad/missing-version.yaml \
	tests/scenarios/bad/missing-vms.yaml \
	tests/scenarios/bad/name-in-defaults.yaml \
	tests/scenarios/bad/not-utf8.yaml \
	tests/scenarios/bad/ops-no-disk.yaml \
	tests/scenarios/bad/qd-zero.yaml \
	tests/scenarios/bad/read-only-yes.yaml \
	tests/scenarios/bad/repeat-range.yaml \
	tests/scenarios/bad/repeat-zero.yaml \
	tests/scenarios/bad/ro-write-rw-disk.yaml \
	tests/scenarios/bad/root-list.yaml \
	tests/scenarios/bad/rwmix-range.yaml \
	tests/scenarios/bad/serial-too-long.yaml \
	tests/scenarios/bad/span-below-bs.yaml \
	tests/scenarios/bad/span-below-default-bs.yaml \
	tests/scenarios/bad/span-beyond-disk-matrix.yaml \
	tests/scenarios/bad/span-beyond-disk.yaml \
	tests/scenarios/bad/syntax-bad-indent.yaml \
	tests/scenarios/bad/syntax-tab.yaml \
	tests/scenarios/bad/syntax-unclosed-quote.yaml \
	tests/scenarios/bad/tag.yaml \
	tests/scenarios/bad/throttle-empty.yaml \
	tests/scenarios/bad/timeout-bad-unit.yaml \
	tests/scenarios/bad/timeout-no-unit.yaml \
	tests/scenarios/bad/too-many-combos.yaml \
	tests/scenarios/bad/too-many-jobs.yaml \
	tests/scenarios/bad/two-documents.yaml \
	tests/scenarios/bad/unknown-bucket-key.yaml \
	tests/scenarios/bad/unknown-disk-key.yaml \
	tests/scenarios/bad/unknown-guest-key.yaml \
	tests/scenarios/bad/unknown-throttle-key.yaml \
	tests/scenarios/bad/unknown-top-key.yaml \
	tests/scenarios/bad/unknown-vm-key.yaml \
	tests/scenarios/bad/unknown-workload-key.yaml \
	tests/scenarios/bad/vcpus-junk.yaml \
	tests/scenarios/bad/vcpus-mapping.yaml \
	tests/scenarios/bad/vcpus-range.yaml \
	tests/scenarios/bad/verify-number.yaml \
	tests/scenarios/bad/version-2.yaml \
	tests/scenarios/bad/version-mapping.yaml \
	tests/scenarios/bad/vm-missing-name.yaml \
	tests/scenarios/bad/vm-scalar.yaml \
	tests/scenarios/bad/vms-empty.yaml \
	tests/scenarios/bad/vms-mapping.yaml \
	tests/scenarios/bad/workload-list.yaml
