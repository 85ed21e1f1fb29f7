/*
 * units.h - numbers as people type them in scenario files: sizes with binary
 * units ("4k", "64M", "1G"), times with a required unit ("500ms", "30s") and
 * plain counts.  Pure functions; the caller words the error message.
 */
#ifndef VMORCH_UNITS_H
#define VMORCH_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * All parsers return 0, -EINVAL for text that is not of the expected form
 * (empty, junk, unknown or missing unit) or -ERANGE when the value does not
 * fit in 64 bits.  *out is written only on success.
 */

/* "0", "1000": decimal digits only, no sign, no spaces. */
int units_parse_u64(const char *s, uint64_t *out);

/* "512", "4k", "4K", "4KiB", "64M", "64MiB", "1G", "1T": binary multiples. */
int units_parse_size(const char *s, uint64_t *out);

/* "500ms", "30s", "2m", "1h": a unit is required (a bare "30" is -EINVAL). */
int units_parse_time_ms(const char *s, uint64_t *out);

/* The multiplier a size suffix stands for ("" is 1, "k" is 1024, ...). */
int units_size_multiplier(const char *suffix, uint64_t *mult);

/* Shortest exact spelling of @bytes: 4096 -> "4K", 1000 -> "1000". */
void units_format_size(uint64_t bytes, char *buf, size_t len);

#endif
