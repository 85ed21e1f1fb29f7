/*
 * ports.c - port I/O dispatch: serial, debug exit, gate, i8042 reset, ACPI
 * sleep control (see ports.h).
 */
#include <string.h>
#include <sys/ioctl.h>

#include "guest/builtin/protocol.h"
#include "vmm-worker/acpi.h"
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

/*
 * THR writes go through the coalesced ring only while the guest polls the
 * UART (IER.THRI clear).  Once it drives output by the transmit interrupt
 * they must exit: queued, they would neither reach the console nor re-raise
 * the interrupt until some unrelated exit, and an idle guest makes none.
 * Linux sets THRI while its tty layer has output in flight and clears it
 * when done (its printk console polls, with IER cleared), so the ring comes
 * back when THRI goes off: a Linux boot's console then costs one exit per
 * byte (the LSR poll) instead of two.  Each switch is an ioctl that waits
 * for an SRCU grace period in KVM, hence the budget.  The exit that brings
 * the IER write has drained the ring already (vcpu_handle_exit), so output
 * keeps its order across a switch.
 */
static void serial_update_coalescing(struct vm *vm)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = SERIAL_PORT_BASE, .size = 1, .pio = 1,
	};
	bool want_ring;

	if (!vm->ring)
		return;
	want_ring = !serial_tx_irq_enabled(&vm->serial);
	pthread_mutex_lock(&vm->coalesce_lock);
	if (want_ring == !vm->serial_uncoalesced)
		goto out;
	if (!want_ring) {
		/* On failure THR stays queued: output waits for the next exit. */
		if (ioctl(vm->fd, KVM_UNREGISTER_COALESCED_MMIO, &zone) == 0)
			vm->serial_uncoalesced = true;
	} else if (vm->recoalesce_left &&
		   ioctl(vm->fd, KVM_REGISTER_COALESCED_MMIO, &zone) == 0) {
		vm->serial_uncoalesced = false;
		vm->recoalesce_left--;
	}
out:
	pthread_mutex_unlock(&vm->coalesce_lock);
}

void ports_io(struct vm *vm, uint16_t port, uint8_t *data, uint32_t size,
	      bool is_write)
{
	uint32_t v = 0;

	if (port >= SERIAL_PORT_BASE && port < SERIAL_PORT_BASE + SERIAL_PORT_LEN) {
		serial_io(&vm->serial, port, data, is_write);
		if (is_write && port == SERIAL_PORT_BASE + 1)
			serial_update_coalescing(vm);
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
