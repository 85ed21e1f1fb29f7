/*
 * builtin_guest.h - the built-in test guest's ELF, embedded at build time
 * (builtin_guest.S includes guest/builtin/vmorch-guest.elf).
 */
#ifndef VMORCH_BUILTIN_GUEST_H
#define VMORCH_BUILTIN_GUEST_H

#include <stdint.h>

extern const uint8_t builtin_guest_elf[];
extern const uint8_t builtin_guest_elf_end[];

#endif
