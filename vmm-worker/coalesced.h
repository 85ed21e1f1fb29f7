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

/*
 * THR writes through the ring (@ring) or as exits.  They must exit while the
 * guest drives the UART by its transmit interrupt (IER.THRI): queued, they
 * would neither reach the console nor re-raise the interrupt until some
 * unrelated exit, and an idle guest makes none.  Linux sets THRI while its
 * tty layer has output in flight and clears it when done (its printk
 * console polls, with IER cleared), so the ring comes back when THRI goes
 * off: a Linux boot's console then costs one exit per byte (the LSR poll)
 * instead of two.  Each switch is an ioctl that waits for an SRCU grace
 * period in KVM, hence a budget of returns to the ring.  Called from the
 * exit that brings the IER write, which has drained the ring already, so
 * output keeps its order across a switch.  Safe from any thread.
 */
void coalesced_serial_set(struct vm *vm, bool ring);

/* Replay every queued write, oldest first.  Safe from any thread. */
void coalesced_drain(struct vm *vm);

#endif
