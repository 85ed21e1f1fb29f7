# tests/fuzz.mk - libFuzzer targets (ASan+UBSan), always built with clang
# whatever $(CC) is, from the sources themselves rather than the gcc-built
# libraries.  `make fuzz` builds them; `make fuzz-run` runs each for
# FUZZ_SECONDS from its seed corpus (CI: 6 x 30 s).  Not part of make check.
# Included from the top-level Makefile.am (non-recursive build).

FUZZ_CC = clang
FUZZ_SECONDS = 30
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_WARN = -Wall -Wextra -Wno-unused-parameter -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wshadow -Werror
FUZZ_CFLAGS = -g -O1 -std=gnu11 $(FUZZ_WARN) -fsanitize=fuzzer $(FUZZ_SAN) \
	-I$(top_srcdir) -D_GNU_SOURCE $(JANSSON_CFLAGS)
# A hang is a finding: no input may take 10 s.
FUZZ_RUN_FLAGS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1

FUZZ_COMMON_SRCS = $(top_srcdir)/common/verr.c $(top_srcdir)/common/json_strict.c \
	$(top_srcdir)/common/vblk_counters.c $(top_srcdir)/common/vblk_json.c \
	$(top_srcdir)/common/job.c $(top_srcdir)/common/vm_result.c \
	$(top_srcdir)/common/shm.c $(top_srcdir)/common/console_ring.c \
	$(top_srcdir)/common/remote_proto.c \
	$(top_srcdir)/common/clock.c
FUZZ_COMMON_LIBS = $(JANSSON_LIBS) -lm

FUZZ_VBLK_SRCS = $(top_srcdir)/tests/fuzz_vblk.c \
	$(top_srcdir)/vmm-worker/virtio_mmio.c $(top_srcdir)/vmm-worker/virtio_blk.c \
	$(top_srcdir)/vmm-worker/virtqueue.c $(top_srcdir)/vmm-worker/throttle.c \
	$(top_srcdir)/vmm-worker/disk.c $(top_srcdir)/common/verr.c \
	$(top_srcdir)/common/vblk_counters.c $(top_srcdir)/common/clock.c
FUZZ_SCENARIO_SRCS = $(top_srcdir)/tests/fuzz_scenario.c $(top_srcdir)/common/sha256.c \
	$(top_srcdir)/orchestrator/scenario.c $(top_srcdir)/orchestrator/scenario_matrix.c \
	$(top_srcdir)/orchestrator/ytree.c $(top_srcdir)/orchestrator/ytree_get.c \
	$(top_srcdir)/orchestrator/units.c \
	$(top_srcdir)/orchestrator/expect.c $(top_srcdir)/orchestrator/jobname.c \
	$(FUZZ_COMMON_SRCS)
FUZZ_INVENTORY_SRCS = $(top_srcdir)/tests/fuzz_inventory.c \
	$(top_srcdir)/orchestrator/inventory.c $(top_srcdir)/orchestrator/inventory_select.c \
	$(top_srcdir)/orchestrator/host_range.c \
	$(top_srcdir)/orchestrator/ytree.c $(top_srcdir)/orchestrator/ytree_get.c \
	$(top_srcdir)/orchestrator/units.c $(top_srcdir)/common/verr.c

FUZZ_PROGS = tests/fuzz_vblk tests/fuzz_scenario tests/fuzz_job tests/fuzz_result \
	tests/fuzz_shm tests/fuzz_inventory tests/fuzz_remote
EXTRA_DIST += tests/fuzz.mk tests/fuzz_vblk.c tests/fuzz_scenario.c tests/fuzz_job.c \
	tests/fuzz_result.c tests/fuzz_shm.c tests/fuzz_seeds.c tests/fuzz_inventory.c \
	tests/fuzz_remote.c
CLEANFILES += $(FUZZ_PROGS) tests/fuzz_seeds

tests/fuzz_vblk: $(FUZZ_VBLK_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_VBLK_SRCS) -lpthread
tests/fuzz_scenario: $(FUZZ_SCENARIO_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(YAML_CFLAGS) -o $@ $(FUZZ_SCENARIO_SRCS) \
		$(YAML_LIBS) $(FUZZ_COMMON_LIBS)
tests/fuzz_inventory: $(FUZZ_INVENTORY_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(YAML_CFLAGS) -o $@ $(FUZZ_INVENTORY_SRCS) \
		$(YAML_LIBS)
tests/fuzz_job: $(top_srcdir)/tests/fuzz_job.c $(FUZZ_COMMON_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/tests/fuzz_job.c \
		$(FUZZ_COMMON_SRCS) $(FUZZ_COMMON_LIBS)
tests/fuzz_result: $(top_srcdir)/tests/fuzz_result.c $(FUZZ_COMMON_SRCS) \
		$(top_srcdir)/vmm-worker/guest_result.c
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/tests/fuzz_result.c \
		$(top_srcdir)/vmm-worker/guest_result.c $(FUZZ_COMMON_SRCS) $(FUZZ_COMMON_LIBS)
tests/fuzz_shm: $(top_srcdir)/tests/fuzz_shm.c $(FUZZ_COMMON_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/tests/fuzz_shm.c \
		$(FUZZ_COMMON_SRCS) $(FUZZ_COMMON_LIBS)
tests/fuzz_remote: $(top_srcdir)/tests/fuzz_remote.c $(FUZZ_COMMON_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/tests/fuzz_remote.c \
		$(FUZZ_COMMON_SRCS) $(FUZZ_COMMON_LIBS)
# Seeds for job, result, shm and remote, written by the real encoders.
tests/fuzz_seeds: $(top_srcdir)/tests/fuzz_seeds.c $(FUZZ_COMMON_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) -g -O1 -std=gnu11 $(FUZZ_SAN) -I$(top_srcdir) -D_GNU_SOURCE \
		$(JANSSON_CFLAGS) -o $@ $(top_srcdir)/tests/fuzz_seeds.c \
		$(FUZZ_COMMON_SRCS) $(FUZZ_COMMON_LIBS)

fuzz: $(FUZZ_PROGS) tests/fuzz_seeds

# Each target keeps what it finds in tests/fuzz_corpus/NAME (between runs
# too) and writes a crashing input as tests/fuzz_corpus/NAME-crash-*; the
# seed directories after it are only read.
FUZZ_CORPUS = tests/fuzz_corpus
fuzz-run: fuzz
	rm -rf tests/fuzz_seeds.d && ./tests/fuzz_seeds tests/fuzz_seeds.d
	$(MKDIR_P) $(FUZZ_CORPUS)/vblk $(FUZZ_CORPUS)/scenario $(FUZZ_CORPUS)/job \
		$(FUZZ_CORPUS)/result $(FUZZ_CORPUS)/shm $(FUZZ_CORPUS)/inventory \
		$(FUZZ_CORPUS)/remote
	./tests/fuzz_vblk $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/vblk-crash- \
		$(FUZZ_CORPUS)/vblk
	./tests/fuzz_scenario $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/scenario-crash- \
		$(FUZZ_CORPUS)/scenario $(top_srcdir)/scenarios \
		$(top_srcdir)/tests/scenarios/good $(top_srcdir)/tests/scenarios/bad
	./tests/fuzz_job $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/job-crash- \
		$(FUZZ_CORPUS)/job tests/fuzz_seeds.d/job
	./tests/fuzz_result $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/result-crash- \
		$(FUZZ_CORPUS)/result tests/fuzz_seeds.d/result
	./tests/fuzz_shm $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/shm-crash- \
		$(FUZZ_CORPUS)/shm tests/fuzz_seeds.d/shm
	./tests/fuzz_inventory $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/inventory-crash- \
		$(FUZZ_CORPUS)/inventory $(top_srcdir)/tests/fixtures/inventory/good \
		$(top_srcdir)/tests/fixtures/inventory/bad
	./tests/fuzz_remote $(FUZZ_RUN_FLAGS) -artifact_prefix=$(FUZZ_CORPUS)/remote-crash- \
		$(FUZZ_CORPUS)/remote tests/fuzz_seeds.d/remote

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz_seeds.d

.PHONY: fuzz fuzz-run clean-fuzz
