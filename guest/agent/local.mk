# guest/agent/local.mk - vmorch-agent, the /init of Linux guests (a static
# glibc binary), the initramfs builder that embeds it into vmm-worker, and
# their tests.  Included by the top Makefile.am.  The agent is built with
# plain make rules, not as an automake program: it runs inside the guest and
# must get none of the project's (sanitizer) flags.

guest_agent_sources = \
	guest/agent/main.c \
	guest/agent/cmdline.c \
	guest/agent/system.c \
	guest/agent/disks.c \
	guest/agent/workload.c \
	guest/agent/jobfile.c \
	guest/agent/run.c \
	guest/agent/rootfs.c \
	guest/agent/metrics.c
guest_agent_headers = guest/agent/agent.h guest/builtin/protocol.h guest/pattern.h

AGENT_CFLAGS = -std=gnu11 -O2 -g0 -static -Wall -Wextra -Wstrict-prototypes \
	-Wmissing-prototypes -Werror -D_GNU_SOURCE -fno-asynchronous-unwind-tables

guest/agent/vmorch-agent: $(guest_agent_sources) $(guest_agent_headers)
	@$(MKDIR_P) guest/agent
	$(AM_V_GEN)srcs=; for f in $(guest_agent_sources); do \
		srcs="$$srcs $(srcdir)/$$f"; done; \
	$(CC) $(AGENT_CFLAGS) -I$(srcdir) -I$(srcdir)/guest/agent -o $@ $$srcs -s \
		-ljansson -lm

noinst_DATA += guest/agent/vmorch-agent
CLEANFILES += guest/agent/vmorch-agent
EXTRA_DIST += $(guest_agent_sources) guest/agent/agent.h guest/agent/local.mk \
	guest/agent/README.md

# The worker embeds the agent (.incbin in initramfs.c, path relative to the
# build directory where the compiler runs): rebuild when it changes.  Both
# object names, since per-target flags elsewhere may rename the objects.
vmm_worker_vmm_worker_SOURCES += vmm-worker/initramfs.c vmm-worker/initramfs.h \
	vmm-worker/initramfs_files.c vmm-worker/initramfs_files.h \
	vmm-worker/cpio.c vmm-worker/cpio.h
vmm_worker_vmm_worker_LDADD += -lz
vmm-worker/initramfs.$(OBJEXT) vmm-worker/vmm_worker-initramfs.$(OBJEXT): \
	guest/agent/vmorch-agent

# ---- tests ----
check_PROGRAMS += tests/test_initramfs
tests_test_initramfs_SOURCES = tests/test_initramfs.c vmm-worker/initramfs.c \
	vmm-worker/initramfs_files.c \
	vmm-worker/cpio.c
tests_test_initramfs_CFLAGS = $(TEST_CFLAGS)
tests_test_initramfs_LDADD = $(TEST_LIBS) -lz
vmm-worker/tests_test_initramfs-initramfs.$(OBJEXT): guest/agent/vmorch-agent

# The user's program: job.json, ${diskN}, running it, its metrics; the
# agent's files that need no guest (not main.c), on the host.
check_PROGRAMS += tests/test_agent_run
tests_test_agent_run_SOURCES = tests/test_agent_run.c guest/agent/jobfile.c \
	guest/agent/run.c guest/agent/metrics.c $(guest_agent_headers)
tests_test_agent_run_CFLAGS = $(TEST_CFLAGS) -I$(srcdir)/guest/agent \
	-DTEST_DATA='"$(srcdir)/tests/data"'
tests_test_agent_run_LDADD = $(TEST_LIBS) -ljansson
EXTRA_DIST += tests/data/fio-randread.json tests/data/fio-two-jobs.json

# The agent and an initramfs on QEMU (TCG) with QEMU's own virtio-blk.
TESTS += tests/agent/qemu.sh
EXTRA_DIST += tests/agent/qemu.sh
