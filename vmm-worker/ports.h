/*
 * ports.h - the worker's port I/O devices besides the serial line: the
 * debug-exit port (like QEMU's isa-debug-exit at 0xf4) and the gate port
 * (0xf5) a guest polls to wait for the orchestrator.
 */
#ifndef VMORCH_PORTS_H
#define VMORCH_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm-worker/vm.h"

#define PORT_DEBUG_EXIT 0xf4
#define PORT_GATE	0xf5

/* Handle one port access of @size bytes; unknown ports read as all ones. */
void ports_io(struct vm *vm, uint16_t port, uint8_t *data, uint32_t size,
	      bool is_write);

#endif
