/*
 * i8042.h - just enough of the PC keyboard controller for a guest to reset
 * the machine through it (Linux's reboot=k, and the FADT's reset register,
 * which points here): status always idle, command 0xfe pulses the reset
 * line and ends the VM as "reset".
 */
#ifndef VMORCH_I8042_H
#define VMORCH_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm-worker/vm.h"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define I8042_CMD_RESET		0xfe

/* One byte at 0x60 or 0x64. */
void i8042_io(struct vm *vm, uint16_t port, uint8_t *data, bool is_write);

#endif
