/*
 * protocol.h - what the built-in guest and the worker agree on: how the
 * guest reports its verdict and figures.  Freestanding (no libc): included
 * by guest code and by the worker.
 *
 * Verdict: the guest writes a 32-bit value to the debug-exit port, like
 * QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=4),
 * under which QEMU exits with status (value << 1) | 1.
 *
 * Figures: one line on the serial port,
 *     VMORCH-RESULT {"status":"pass",...}\n
 * a flat JSON object of numbers plus "status" ("pass" or "fail"; the Linux
 * agent also "timeout") and, on failure, "reason" (a string).  The Linux
 * agent puts the nonce of its job file between the prefix and the JSON,
 *     VMORCH-RESULT 0123456789abcdef0123456789abcdef {"status":"pass",...}
 * and the worker then takes no other line (vmm-worker/guest_job.h).
 */
#ifndef VMORCH_GUEST_PROTOCOL_H
#define VMORCH_GUEST_PROTOCOL_H

#define GUEST_DEBUG_EXIT_PORT	0xf4
#define GUEST_SERIAL_PORT	0x3f8
#define GUEST_EXIT_PASS		0x10	/* QEMU exit status 33 */
#define GUEST_EXIT_FAIL		0x11	/* QEMU exit status 35 */
#define GUEST_RESULT_PREFIX	"VMORCH-RESULT "

/*
 * What the worker adds to a Linux guest's initramfs for the agent: the job
 * file (vmm-worker/guest_job.c writes it, guest/agent/jobfile.c reads it)
 * with the nonce, and, when a program's libraries lie outside the default
 * directories, those directories for its LD_LIBRARY_PATH
 * (vmm-worker/initramfs_files.c).  Archive names drop the leading '/'.
 */
#define GUEST_JOB_DIR		"/.vmorch"
#define GUEST_JOB_FILE		GUEST_JOB_DIR "/job.json"
#define GUEST_LD_PATH_FILE	GUEST_JOB_DIR "/ld-library-path"
#define GUEST_NONCE_LEN		32	/* lowercase hex digits */

#endif
