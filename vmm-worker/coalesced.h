/*
 * coalesced.h - serial output without an exit per byte: the UART's
 * transmit register is a KVM coalesced PIO zone, so the guest's writes to
 * it queue in a ring page that the worker drains before it handles any
 * other exit (keeping the device's order of events) and at the end.
 */
#ifndef VMORCH_COALESCED_H
#define VMORCH_COALESCED_H

#include "vmm-worker/vm.h"

/* Register the zone if KVM can; without the capability nothing changes. */
void coalesced_init(struct vm *vm);

/* Replay every queued write, oldest first.  Safe from any thread. */
void coalesced_drain(struct vm *vm);

#endif
