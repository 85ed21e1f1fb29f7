/*
 * ports.c - port I/O dispatch: serial, debug exit, gate (see ports.h).
 */
#include <string.h>

#include "guest/builtin/protocol.h"
#include "vmm-worker/ports.h"

/*
 * The guest's verdict.  Like QEMU's isa-debug-exit the value is what the
 * guest wrote; GUEST_EXIT_PASS means pass, anything else is a failure code.
 */
static void debug_exit_write(struct vm *vm, uint32_t value)
{
	if (value == GUEST_EXIT_PASS)
		vm_finish(vm, VM_EXIT_GUEST_PASS, value, "guest reported pass");
	else
		vm_finish(vm, VM_EXIT_GUEST_FAIL, value,
			  "guest reported failure (exit value 0x%x)", value);
}

void ports_io(struct vm *vm, uint16_t port, uint8_t *data, uint32_t size,
	      bool is_write)
{
	uint32_t v = 0;

	if (port >= SERIAL_PORT_BASE && port < SERIAL_PORT_BASE + SERIAL_PORT_LEN) {
		serial_io(&vm->serial, port, data, is_write);
		return;
	}
	if (port == PORT_DEBUG_EXIT && is_write) {
		memcpy(&v, data, size < 4 ? size : 4);
		debug_exit_write(vm, v);
		return;
	}
	if (port == PORT_GATE && !is_write) {
		v = atomic_load_explicit(&vm->shm->guest_gate, memory_order_acquire);
		memcpy(data, &v, size < 4 ? size : 4);
		return;
	}
	if (!is_write)
		memset(data, 0xff, size);
}
