# vmm-worker/linux.mk - booting Linux guests: bzImage and PVH vmlinux,
# boot parameters, ACPI tables (with a small AML writer), the i8042 reset
# line; and their unit tests.  Included by the top Makefile.am.

vmm_worker_vmm_worker_SOURCES += \
	vmm-worker/linux_boot.c vmm-worker/linux_boot.h \
	vmm-worker/guest_job.c vmm-worker/guest_job.h \
	vmm-worker/bzimage.c vmm-worker/bzimage.h \
	vmm-worker/bootparams.c vmm-worker/bootparams.h \
	vmm-worker/acpi.c vmm-worker/acpi.h \
	vmm-worker/aml.c vmm-worker/aml.h \
	vmm-worker/i8042.c vmm-worker/i8042.h

# bzImage, zero page, e820, PVH start info: on the Debian kernel when it can
# be fetched (scripts/fetch-test-kernel.sh), on hand-made images always.
check_PROGRAMS += tests/test_linux_boot
tests_test_linux_boot_SOURCES = tests/test_linux_boot.c \
	vmm-worker/bzimage.c vmm-worker/bootparams.c vmm-worker/pvh.c
tests_test_linux_boot_CFLAGS = $(TEST_CFLAGS)
tests_test_linux_boot_LDADD = $(TEST_LIBS)

# ACPI tables: checksums in C, then a round trip through iasl -d.
check_PROGRAMS += tests/test_acpi
tests_test_acpi_SOURCES = tests/test_acpi.c vmm-worker/acpi.c vmm-worker/aml.c
tests_test_acpi_CFLAGS = $(TEST_CFLAGS)
tests_test_acpi_LDADD = $(TEST_LIBS)

# A Linux guest's job file and nonce, the console's result line, the payload.
check_PROGRAMS += tests/test_guest_result
tests_test_guest_result_SOURCES = tests/test_guest_result.c vmm-worker/guest_job.c \
	vmm-worker/guest_result.c vmm-worker/serial.c vmm-worker/cpio.c
tests_test_guest_result_CFLAGS = $(TEST_CFLAGS)
tests_test_guest_result_LDADD = $(TEST_LIBS)
