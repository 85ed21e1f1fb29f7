# orchestrator/ssh.mk - the SSH transport for fleet hosts (libfleetssh.a:
# libssh2 driven by one poll loop, known_hosts, exec channels), its unit
# tests and its tests against real sshd servers (tests/fleet/sshd.sh).
# libssh2 is loaded at run time (ssh_lib.c), so only its headers are used
# here: nothing links it.  Included from Makefile.am.

noinst_LIBRARIES += orchestrator/libfleetssh.a
orchestrator_libfleetssh_a_SOURCES = \
	orchestrator/ssh.h orchestrator/ssh_priv.h \
	orchestrator/ssh_lib.c orchestrator/ssh_lib.h \
	orchestrator/ssh_conn.c orchestrator/ssh_auth.c \
	orchestrator/ssh_chan.c orchestrator/ssh_loop.c orchestrator/ssh_host.c \
	orchestrator/ssh_resolve.c orchestrator/ssh_resolve.h \
	orchestrator/ssh_wire.c orchestrator/ssh_wire.h \
	orchestrator/known_hosts.c orchestrator/known_hosts.h \
	orchestrator/sha1.c orchestrator/sha1.h \
	orchestrator/base64.c orchestrator/base64.h
orchestrator_libfleetssh_a_CFLAGS = $(AM_CFLAGS) $(SSH2_CFLAGS)

# What a program linking the transport adds to its LDADD.
FLEETSSH_LIBS = orchestrator/libfleetssh.a $(DL_LIBS)

# Host names looked up off the loop.
check_PROGRAMS += tests/test_ssh_resolve
tests_test_ssh_resolve_CFLAGS = $(TEST_CFLAGS)
tests_test_ssh_resolve_LDADD = orchestrator/libfleetssh.a $(TEST_LIBS)

# known_hosts, SHA-1, base64 and the wire parsers, without any server.
check_PROGRAMS += tests/test_known_hosts
tests_test_known_hosts_CFLAGS = $(TEST_CFLAGS)
tests_test_known_hosts_LDADD = $(FLEETSSH_LIBS) $(TEST_LIBS)

# The transport against real OpenSSH servers on 127.0.0.N (skips without
# /usr/sbin/sshd unless CI is set).
check_PROGRAMS += tests/test_ssh
tests_test_ssh_SOURCES = tests/test_ssh.c tests/fleet/sshd_harness.c \
	tests/fleet/sshd_harness.h
tests_test_ssh_CFLAGS = $(TEST_CFLAGS) $(SSH2_CFLAGS)
tests_test_ssh_LDADD = $(FLEETSSH_LIBS) $(TEST_LIBS)

# libssh2 is not linked, loaded only when SSH is used, and its absence is
# one clear line (no sshd needed).
TESTS += tests/fleet/ssh-lib.sh
EXTRA_DIST += orchestrator/ssh.mk tests/fleet/sshd.sh doc/fleet.md tests/fleet/ssh-lib.sh
