EXTRA_DIST += scripts/fetch-test-kernel.sh scripts/make-rootfs.sh scripts/setup-linux-fio.sh

# ---- tests/nested/: end to end under a nested KVM ----
# L1 is QEMU in software emulation booting Debian's kernel with kvm_amd
# (tests/nested/run-l1.sh); tests run inside it and report over its console.
# They need qemu-system-x86_64, cpio, busybox-static and the kernel from
# scripts/fetch-test-kernel.sh; without them they skip (fail under CI).
# Shell tests speak TAP to the same driver as the cmocka programs.
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
TESTS += tests/nested/builtin-in-l1.sh tests/nested/linux-in-l1.sh tests/nested/fleet-in-l1.sh
EXTRA_DIST += tests/nested/README tests/nested/run-l1.sh tests/nested/l1-init.sh \
	tests/nested/suite.sh \
	tests/nested/builtin-in-l1.sh tests/nested/linux-in-l1.sh tests/nested/fleet-in-l1.sh
CLEANFILES += tests/nested/builtin-in-l1.console tests/nested/linux-in-l1.console \
	tests/nested/fleet-in-l1.console

# A small dynamically linked program the Linux suite copies into a guest
# with files: (plain rule, like the agent: it runs in the guest, so none of
# the project's sanitizer flags).
tests/nested/metric-prog: tests/nested/metric-prog.c
	@$(MKDIR_P) tests/nested
	$(AM_V_GEN)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $(srcdir)/tests/nested/metric-prog.c
check_DATA = tests/nested/metric-prog
CLEANFILES += tests/nested/metric-prog
EXTRA_DIST += tests/nested/metric-prog.c
