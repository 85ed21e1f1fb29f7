/*
 * ports.c - port I/O dispatch: serial, debug exit, gate, i8042 reset, ACPI
 * sleep control (see ports.h).
 */
#include <string.h>

#include "guest/builtin/protocol.h"
#include "vmm-worker/acpi.h"
#include "vmm-worker/coalesced.h"
#include "vmm-worker/i8042.h"
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

/*
 * The hardware-reduced sleep control register: SLP_EN with \_S5's SLP_TYP
 * is ACPI power-off (Linux's poweroff without a debug-exit verdict).
 */
static void acpi_sleep_write(struct vm *vm, uint8_t v)
{
	if ((v & ACPI_SLP_EN) &&
	    ((v >> ACPI_SLP_TYP_SHIFT) & 7) == ACPI_SLP_TYP_S5)
		vm_finish(vm, VM_EXIT_POWEROFF, 0, "guest powered off (ACPI S5)");
}

void ports_io(struct vm *vm, uint16_t port, uint8_t *data, uint32_t size,
	      bool is_write)
{
	uint32_t v = 0;

	if (port >= SERIAL_PORT_BASE && port < SERIAL_PORT_BASE + SERIAL_PORT_LEN) {
		serial_io(&vm->serial, port, data, is_write);
		if (is_write && port == SERIAL_PORT_BASE + 1)
			coalesced_serial_set(vm, !serial_tx_irq_enabled(&vm->serial));
		return;
	}
	if (port == I8042_DATA_PORT || port == I8042_CMD_PORT) {
		i8042_io(vm, port, data, is_write);
		return;
	}
	if (port == ACPI_SLEEP_CTL_PORT && is_write) {
		acpi_sleep_write(vm, data[0]);
		return;
	}
	if (port == ACPI_SLEEP_STS_PORT && !is_write) {
		data[0] = 0;
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
