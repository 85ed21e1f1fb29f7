# orchestrator/fleet.mk - what vmorch does with fleet hosts on top of the
# SSH transport (ssh.mk) and the inventory (inventory.mk): the host probe,
# checking every host at once, staging files by sha256, trimming the
# hosts' stores (libfleet.a), and their tests.  Included from Makefile.am.

noinst_LIBRARIES += orchestrator/libfleet.a
orchestrator_libfleet_a_SOURCES = \
	orchestrator/host_probe.c orchestrator/host_probe.h \
	orchestrator/fleet_each.c orchestrator/fleet_each.h \
	orchestrator/fleet_check.c orchestrator/fleet_check.h \
	orchestrator/store_gc.c orchestrator/store_gc.h \
	orchestrator/fleet_gc.c orchestrator/fleet_gc.h \
	orchestrator/fleet_stage.c orchestrator/fleet_stage.h \
	orchestrator/fleet_files.c orchestrator/fleet_files.h \
	orchestrator/file_hash.c orchestrator/file_hash.h \
	orchestrator/fleet_run.c orchestrator/fleet_run.h
orchestrator_libfleet_a_CFLAGS = $(AM_CFLAGS) $(SSH2_CFLAGS)

FLEET_LIBS = orchestrator/libfleet.a $(FLEETSSH_LIBS)

# The host probe and the store gc scripts, run through sh here as a
# host's login shell would.
check_PROGRAMS += tests/test_host_probe tests/test_store_gc
tests_test_host_probe_SOURCES = tests/test_host_probe.c tests/sh_run.c tests/sh_run.h
tests_test_host_probe_CFLAGS = $(TEST_CFLAGS)
tests_test_host_probe_LDADD = orchestrator/libfleet.a $(TEST_LIBS)
tests_test_store_gc_SOURCES = tests/test_store_gc.c tests/sh_run.c tests/sh_run.h
tests_test_store_gc_CFLAGS = $(TEST_CFLAGS)
tests_test_store_gc_LDADD = $(FLEET_LIBS) $(TEST_LIBS)

# A file's hash, remembered between runs.
check_PROGRAMS += tests/test_file_hash
tests_test_file_hash_CFLAGS = $(TEST_CFLAGS)
tests_test_file_hash_LDADD = orchestrator/libfleet.a $(TEST_LIBS)

# The hosts' states on the progress line.
check_PROGRAMS += tests/test_fleet_status
tests_test_fleet_status_CFLAGS = $(TEST_CFLAGS) $(SSH2_CFLAGS)
tests_test_fleet_status_LDADD = $(FLEET_LIBS) $(INVENTORY_LIBS) $(TEST_LIBS)

# Staging against a real sshd on 127.0.0.2 (skips without sshd unless CI).
check_PROGRAMS += tests/test_fleet_stage
tests_test_fleet_stage_SOURCES = tests/test_fleet_stage.c tests/fleet/sshd_harness.c \
	tests/fleet/sshd_harness.h
tests_test_fleet_stage_CFLAGS = $(TEST_CFLAGS) $(SSH2_CFLAGS)
tests_test_fleet_stage_LDADD = $(FLEET_LIBS) $(TEST_LIBS)

# Placement at validate (no SSH); `vmorch hosts check`, `vmorch run --hosts`
# (jobs, their files) and `vmorch hosts gc` against sshd.
TESTS += tests/fleet/placement.sh tests/fleet/hosts-check.sh tests/fleet/run.sh \
	tests/fleet/stage.sh tests/fleet/gc.sh
EXTRA_DIST += orchestrator/fleet.mk tests/fleet/placement.sh tests/fleet/hosts-check.sh \
	tests/fleet/run.sh tests/fleet/stage.sh tests/fleet/suite.sh tests/fleet/gc.sh
