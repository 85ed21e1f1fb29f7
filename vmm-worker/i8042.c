/*
 * i8042.c - the keyboard controller's reset line (see i8042.h).
 *
 * Status reads 0: input buffer empty, so Linux's kb_wait() returns at once
 * (an absent controller reads 0xff, "busy", and each of its 10 reset
 * attempts would spin 64k port reads, an exit each).  No keyboard, no
 * data: the FADT tells Linux there is no 8042 to probe.
 */
#include "vmm-worker/i8042.h"

void i8042_io(struct vm *vm, uint16_t port, uint8_t *data, bool is_write)
{
	if (!is_write) {
		*data = 0;
		return;
	}
	if (port == I8042_CMD_PORT && *data == I8042_CMD_RESET)
		vm_finish(vm, VM_EXIT_RESET, 0,
			  "guest reset the machine through the i8042 (0xfe to port 0x64)");
}
