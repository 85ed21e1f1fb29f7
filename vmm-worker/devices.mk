# vmm-worker/devices.mk - virtio-mmio transport, virtio-blk device, virtqueue,
# throttle and backing store: libvdev.a, its tests and its fuzz target.
# Included from the top-level Makefile.am (non-recursive build).

noinst_LIBRARIES += vmm-worker/libvdev.a
vmm_worker_libvdev_a_SOURCES = \
	vmm-worker/vblk.h vmm-worker/guest_mem.h vmm-worker/vblk_internal.h \
	vmm-worker/virtio_mmio.c vmm-worker/virtio_mmio.h \
	vmm-worker/virtio_blk.c vmm-worker/virtio_blk.h \
	vmm-worker/virtqueue.c vmm-worker/virtqueue.h \
	vmm-worker/throttle.c vmm-worker/throttle.h \
	vmm-worker/disk.c vmm-worker/disk.h

VDEV_LIBS = vmm-worker/libvdev.a $(COMMON_LIBS) -lpthread

check_PROGRAMS += tests/test_virtqueue tests/test_vblk tests/test_throttle
tests_test_virtqueue_CFLAGS = $(TEST_CFLAGS)
tests_test_virtqueue_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)
tests_test_vblk_CFLAGS = $(TEST_CFLAGS)
tests_test_vblk_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)
tests_test_throttle_CFLAGS = $(TEST_CFLAGS)
tests_test_throttle_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)

# ---- libFuzzer target: always clang, whatever $(CC) is ----
EXTRA_DIST += tests/fuzz_vblk.c
CLEANFILES += tests/fuzz_vblk
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -I$(top_srcdir) -D_GNU_SOURCE $(JANSSON_CFLAGS)
FUZZ_SRCS = $(top_srcdir)/tests/fuzz_vblk.c \
	$(top_srcdir)/vmm-worker/virtio_mmio.c $(top_srcdir)/vmm-worker/virtio_blk.c \
	$(top_srcdir)/vmm-worker/virtqueue.c $(top_srcdir)/vmm-worker/throttle.c \
	$(top_srcdir)/vmm-worker/disk.c $(top_srcdir)/common/verr.c \
	$(top_srcdir)/common/vblk_counters.c

tests/fuzz_vblk: $(FUZZ_SRCS)
	@$(MKDIR_P) tests
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) -lpthread

fuzz: tests/fuzz_vblk

fuzz-run: tests/fuzz_vblk
	@$(MKDIR_P) tests/fuzz_corpus
	./tests/fuzz_vblk -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		tests/fuzz_corpus

.PHONY: fuzz fuzz-run
