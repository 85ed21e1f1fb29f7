# vmm-worker/static.mk - the second worker build: the same sources, linked
# statically (glibc, jansson, zlib, libseccomp) and never with the
# sanitizers, so it runs on any x86-64 Linux host with /dev/kvm without
# installing anything.  It is the binary a fleet host gets staged; the
# sanitizer build stays the one the tests run.  Included last by the top
# Makefile.am, after every fragment that adds to the worker's sources.
#
# The per-target CFLAGS and LDFLAGS replace AM_CFLAGS and AM_LDFLAGS, which
# carry SAN_CFLAGS/SAN_LDFLAGS; and the common and device code is compiled
# here again rather than taken from libcommon.a/libvdev.a, which are built
# with them.

bin_PROGRAMS += vmm-worker/vmm-worker-static
vmm_worker_vmm_worker_static_SOURCES = $(vmm_worker_vmm_worker_SOURCES) \
	$(vmm_worker_libvdev_a_SOURCES) $(common_libcommon_a_SOURCES)
vmm_worker_vmm_worker_static_CFLAGS = $(WARN_CFLAGS) $(JANSSON_CFLAGS) $(SECCOMP_CFLAGS)
vmm_worker_vmm_worker_static_CCASFLAGS = $(vmm_worker_vmm_worker_CCASFLAGS)
vmm_worker_vmm_worker_static_LDFLAGS = -static
vmm_worker_vmm_worker_static_LDADD = $(JANSSON_LIBS) $(SECCOMP_LIBS) -lz -lm -lpthread
vmm-worker/vmm_worker_static-builtin_guest.$(OBJEXT): guest/builtin/vmorch-guest.elf
vmm-worker/vmm_worker_static-initramfs.$(OBJEXT): guest/agent/vmorch-agent
EXTRA_DIST += vmm-worker/static.mk
