/*
 * ssh_lib.h - libssh2, loaded with dlopen() the first time SSH is used
 * (ssh_lib_load, from ssh_loop_new) and called through the table ssh2.
 *
 * Why: linked normally, libssh2 brings libcrypto and libz into every vmorch
 * process; mapping and relocating them doubled the start-up of commands
 * that never use SSH (doc/architecture.md, "libssh2 is loaded when SSH is
 * used").
 *
 * A call reads as libssh2's own with "libssh2_" replaced by "ssh2.":
 * ssh2.session_handshake(s, fd).  The pointer types come from <libssh2.h>,
 * so the compiler checks every call.  Names libssh2 defines as macros
 * (libssh2_channel_exec, _write, _setenv, libssh2_session_disconnect) are
 * not symbols: the table holds the exported functions they expand to.
 */
#ifndef VMORCH_SSH_LIB_H
#define VMORCH_SSH_LIB_H

#include <libssh2.h>

#include "common/verr.h"

/* Every libssh2 function vmorch calls. */
#define SSH_LIB_SYMBOLS(X)			\
	X(init)					\
	X(free)					\
	X(session_init_ex)			\
	X(session_set_blocking)			\
	X(session_callback_set)			\
	X(session_method_pref)			\
	X(session_supported_algs)		\
	X(session_handshake)			\
	X(session_hostkey)			\
	X(session_block_directions)		\
	X(session_last_error)			\
	X(session_last_errno)			\
	X(session_disconnect_ex)		\
	X(session_free)				\
	X(userauth_list)			\
	X(userauth_authenticated)		\
	X(userauth_publickey_fromfile_ex)	\
	X(agent_init)				\
	X(agent_set_identity_path)		\
	X(agent_connect)			\
	X(agent_list_identities)		\
	X(agent_get_identity)			\
	X(agent_userauth)			\
	X(agent_disconnect)			\
	X(agent_free)				\
	X(channel_open_ex)			\
	X(channel_process_startup)		\
	X(channel_read_ex)			\
	X(channel_write_ex)			\
	X(channel_eof)				\
	X(channel_send_eof)			\
	X(channel_setenv_ex)			\
	X(channel_wait_closed)			\
	X(channel_get_exit_status)		\
	X(channel_get_exit_signal)		\
	X(channel_close)			\
	X(channel_free)

struct ssh_lib {
#define SSH_LIB_POINTER(name) __typeof__(libssh2_##name) *name;
	SSH_LIB_SYMBOLS(SSH_LIB_POINTER)
#undef SSH_LIB_POINTER
};

/* Filled by ssh_lib_load(); all NULL before it succeeds. */
extern struct ssh_lib ssh2;

/*
 * Load libssh2 and call its libssh2_init(), once per process (thread-safe);
 * later calls return the first call's result.  0, or -ELIBACC when the
 * library cannot be loaded, -ELIBBAD when it lacks a function, -EIO when
 * libssh2_init() fails, with @e saying which and what to install.
 *
 * For tests, VMORCH_LIBSSH2 names the file to load instead of the soname.
 */
int ssh_lib_load(struct verr *e);

#endif
