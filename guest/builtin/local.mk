# guest/builtin/local.mk - the built-in test guest, a freestanding PVH ELF
# (included by the top Makefile.am).  Plain make rules, not an automake
# program: the guest must get none of the project's (sanitizer) flags.

guest_builtin_sources = \
	guest/builtin/entry.S \
	guest/builtin/main.c \
	guest/builtin/cmdline.c \
	guest/builtin/lib.c \
	guest/builtin/tsc.c \
	guest/builtin/serial.c \
	guest/builtin/mem.c \
	guest/builtin/irq.c \
	guest/builtin/virtio_mmio.c \
	guest/builtin/virtqueue.c \
	guest/builtin/blk.c \
	guest/builtin/workload.c \
	guest/builtin/hostile.c
guest_builtin_headers = \
	guest/builtin/guest.h \
	guest/builtin/lib.h \
	guest/builtin/virtio.h \
	guest/builtin/protocol.h \
	guest/builtin/ring.h \
	guest/pattern.h

GUEST_CFLAGS = -std=gnu11 -O2 -g0 -ffreestanding -fno-builtin -nostdlib \
	-static -fno-pic -fno-pie -no-pie -mcmodel=small -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -Wall -Wextra -Wstrict-prototypes \
	-Wmissing-prototypes -Werror
GUEST_LINK_FLAGS = -Wl,-T,$(srcdir)/guest/builtin/linker.ld -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack

guest/builtin/vmorch-guest.elf: $(guest_builtin_sources) \
		$(guest_builtin_headers) guest/builtin/linker.ld
	@$(MKDIR_P) guest/builtin
	$(AM_V_GEN)srcs=; for f in $(guest_builtin_sources); do \
		srcs="$$srcs $(srcdir)/$$f"; done; \
	$(CC) $(GUEST_CFLAGS) -I$(srcdir)/guest/builtin $(GUEST_LINK_FLAGS) \
		-o $@ $$srcs

noinst_DATA += guest/builtin/vmorch-guest.elf
CLEANFILES += guest/builtin/vmorch-guest.elf
EXTRA_DIST += $(guest_builtin_sources) $(guest_builtin_headers) \
	guest/builtin/linker.ld guest/builtin/local.mk guest/builtin/README.md
