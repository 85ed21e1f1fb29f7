/*
 * aml.h - a tiny AML (ACPI Machine Language) writer, enough for the DSDT
 * acpi.c builds: scopes, devices, names, strings, integers, packages and
 * resource-template buffers.  Encodings follow ACPI 6.5 §20.2 (AML grammar)
 * and §6.4 (resource descriptors).
 */
#ifndef VMORCH_AML_H
#define VMORCH_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_DEPTH_MAX 8

/*
 * A growing byte buffer.  Errors (out of memory, unbalanced nesting) are
 * sticky: check aml.failed once at the end.
 */
struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
	int depth;
	size_t open[AML_DEPTH_MAX];	/* where each open PkgLength goes */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* A name path: "\\_SB_", "VR00", "_HID" (segments shorter than 4 are padded). */
void aml_name_string(struct aml *a, const char *path);

/* Smallest integer encoding: ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/* EISA id "PNP0501" compressed into a DWord (ACPI 6.5 §6.1.5). */
void aml_eisa_id(struct aml *a, const char *id);

/* Name(path, <object that follows>): emits NameOp and the name. */
void aml_name(struct aml *a, const char *path);

/* Scope(path) { ... } and Device(name) { ... }; close each with aml_end. */
void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *name);
/* Package(n) { ... } ; the n elements follow, then aml_end. */
void aml_package(struct aml *a, uint8_t nelems);
/* Buffer() { resource descriptors ... } closed by aml_end_resources. */
void aml_resources(struct aml *a);
void aml_end(struct aml *a);
void aml_end_resources(struct aml *a);	/* adds the End Tag, then aml_end */

/* Resource descriptors, inside aml_resources. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq_noflags(struct aml *a, uint8_t irq);
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable);
void aml_res_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low,
		       bool shared);

#endif
