/*
 * coalesced.c - the coalesced PIO ring for the serial port (see the header).
 *
 * Measured on PVM: a trivial job's console is ~500 bytes, each an exit to
 * user space of ~9 us; queued in the ring they cost nothing until the next
 * real exit.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm-worker/coalesced.h"
#include "vmm-worker/ports.h"

/* Times THR writes may rejoin the ring after leaving it (see the header). */
#define COALESCED_RETURNS_MAX	64

/* THR only: the other UART registers always exit. */
static const struct kvm_coalesced_mmio_zone serial_thr_zone = {
	.addr = SERIAL_PORT_BASE, .size = 1, .pio = 1,
};

void coalesced_init(struct vm *vm)
{
	struct kvm_coalesced_mmio_zone zone = serial_thr_zone;
	long page = sysconf(_SC_PAGESIZE);

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0 ||
	    vm->run_size < (KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * page)
		return;
	if (ioctl(vm->fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return;
	vm->recoalesce_left = COALESCED_RETURNS_MAX;
	/* One ring per VM, visible through any vCPU's kvm_run mapping. */
	vm->ring = (struct kvm_coalesced_mmio_ring *)
		((char *)vm->vcpu[0].run + KVM_COALESCED_MMIO_PAGE_OFFSET * page);
	vm->ring_max = (uint32_t)((page - sizeof(*vm->ring)) /
				  sizeof(struct kvm_coalesced_mmio));
}

void coalesced_serial_set(struct vm *vm, bool ring)
{
	struct kvm_coalesced_mmio_zone zone = serial_thr_zone;

	if (!vm->ring)
		return;
	pthread_mutex_lock(&vm->coalesce_lock);
	if (ring == !vm->serial_uncoalesced)
		goto out;
	if (!ring) {
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

void coalesced_drain(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->ring;
	uint32_t last;

	if (!ring)
		return;
	pthread_mutex_lock(&vm->ring_lock);
	last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	while (ring->first != last) {
		struct kvm_coalesced_mmio *m = &ring->coalesced_mmio[ring->first];
		uint8_t data[8];
		uint32_t len = m->len < sizeof(data) ? m->len : sizeof(data);

		memcpy(data, m->data, len);
		if (m->pio)
			ports_io(vm, (uint16_t)m->phys_addr, data, len, true);
		__atomic_store_n(&ring->first, (ring->first + 1) % vm->ring_max,
				 __ATOMIC_RELEASE);
		last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	}
	pthread_mutex_unlock(&vm->ring_lock);
}
