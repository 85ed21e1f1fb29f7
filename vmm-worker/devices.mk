# vmm-worker/devices.mk - virtio-mmio transport, virtio-blk device, virtqueue,
# throttle and backing store: libvdev.a and its tests (its fuzz target is
# in tests/fuzz.mk).
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

check_PROGRAMS += tests/test_virtqueue tests/test_vblk tests/test_throttle tests/test_disk
tests_test_disk_CFLAGS = $(TEST_CFLAGS)
tests_test_disk_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)
tests_test_virtqueue_CFLAGS = $(TEST_CFLAGS)
tests_test_virtqueue_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)
tests_test_vblk_CFLAGS = $(TEST_CFLAGS)
tests_test_vblk_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)
tests_test_throttle_CFLAGS = $(TEST_CFLAGS)
tests_test_throttle_LDADD = vmm-worker/libvdev.a $(TEST_LIBS)
