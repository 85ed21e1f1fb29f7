# orchestrator/inventory.mk - the fleet inventory (`vmorch-hosts: 1`): host
# name ranges and the loader (libinventory.a), their test and fixtures, and
# the format's man page.
# Included from the top-level Makefile.am (non-recursive build).

noinst_LIBRARIES += orchestrator/libinventory.a
orchestrator_libinventory_a_SOURCES = \
	orchestrator/inventory.c orchestrator/inventory.h \
	orchestrator/inventory_select.c \
	orchestrator/host_range.c orchestrator/host_range.h
orchestrator_libinventory_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)

# The YAML tree (ytree.c) and units.c (durations) live in libscenario.a.
INVENTORY_LIBS = orchestrator/libinventory.a $(SCENARIO_LIBS)

check_PROGRAMS += tests/test_inventory
tests_test_inventory_CFLAGS = $(TEST_CFLAGS)
tests_test_inventory_LDADD = $(INVENTORY_LIBS) $(TEST_LIBS)

dist_man5_MANS += doc/vmorch-hosts.5

# Fixtures, listed one by one (automake wants no wildcards).
EXTRA_DIST += \
	tests/fixtures/inventory/good/lab.yaml \
	tests/fixtures/inventory/bad/address-bad-ipv6.yaml \
	tests/fixtures/inventory/bad/address-bad.yaml \
	tests/fixtures/inventory/bad/address-brackets.yaml \
	tests/fixtures/inventory/bad/address-partial-ipv4.yaml \
	tests/fixtures/inventory/bad/alias.yaml \
	tests/fixtures/inventory/bad/anchor.yaml \
	tests/fixtures/inventory/bad/comments-only.yaml \
	tests/fixtures/inventory/bad/complex-key.yaml \
	tests/fixtures/inventory/bad/control-char.yaml \
	tests/fixtures/inventory/bad/defaults-labels.yaml \
	tests/fixtures/inventory/bad/defaults-list.yaml \
	tests/fixtures/inventory/bad/defaults-typo-key.yaml \
	tests/fixtures/inventory/bad/defaults-unknown-key.yaml \
	tests/fixtures/inventory/bad/dup-name-range.yaml \
	tests/fixtures/inventory/bad/dup-name.yaml \
	tests/fixtures/inventory/bad/dup-top-key.yaml \
	tests/fixtures/inventory/bad/empty.yaml \
	tests/fixtures/inventory/bad/host-dup-key.yaml \
	tests/fixtures/inventory/bad/host-key-check-bad.yaml \
	tests/fixtures/inventory/bad/host-missing-name.yaml \
	tests/fixtures/inventory/bad/host-scalar.yaml \
	tests/fixtures/inventory/bad/host-unknown-key.yaml \
	tests/fixtures/inventory/bad/hosts-empty.yaml \
	tests/fixtures/inventory/bad/hosts-mapping.yaml \
	tests/fixtures/inventory/bad/identity-mapping.yaml \
	tests/fixtures/inventory/bad/identity-other-user.yaml \
	tests/fixtures/inventory/bad/identity-relative.yaml \
	tests/fixtures/inventory/bad/identity-too-many.yaml \
	tests/fixtures/inventory/bad/keepalive-max-zero.yaml \
	tests/fixtures/inventory/bad/keepalive-no-unit.yaml \
	tests/fixtures/inventory/bad/keepalive-range.yaml \
	tests/fixtures/inventory/bad/known-hosts-relative.yaml \
	tests/fixtures/inventory/bad/labels-bad.yaml \
	tests/fixtures/inventory/bad/labels-dup.yaml \
	tests/fixtures/inventory/bad/labels-nested.yaml \
	tests/fixtures/inventory/bad/labels-scalar.yaml \
	tests/fixtures/inventory/bad/missing-hosts.yaml \
	tests/fixtures/inventory/bad/missing-version.yaml \
	tests/fixtures/inventory/bad/name-bad-chars.yaml \
	tests/fixtures/inventory/bad/name-comma.yaml \
	tests/fixtures/inventory/bad/name-empty.yaml \
	tests/fixtures/inventory/bad/name-list.yaml \
	tests/fixtures/inventory/bad/name-numeric.yaml \
	tests/fixtures/inventory/bad/name-too-long.yaml \
	tests/fixtures/inventory/bad/not-utf8.yaml \
	tests/fixtures/inventory/bad/passphrase.yaml \
	tests/fixtures/inventory/bad/password-nested.yaml \
	tests/fixtures/inventory/bad/password.yaml \
	tests/fixtures/inventory/bad/port-junk.yaml \
	tests/fixtures/inventory/bad/port-overflow.yaml \
	tests/fixtures/inventory/bad/port-too-big.yaml \
	tests/fixtures/inventory/bad/port-zero.yaml \
	tests/fixtures/inventory/bad/range-address.yaml \
	tests/fixtures/inventory/bad/range-empty-item.yaml \
	tests/fixtures/inventory/bad/range-empty.yaml \
	tests/fixtures/inventory/bad/range-letters.yaml \
	tests/fixtures/inventory/bad/range-name-too-long.yaml \
	tests/fixtures/inventory/bad/range-numeric-names.yaml \
	tests/fixtures/inventory/bad/range-padding.yaml \
	tests/fixtures/inventory/bad/range-product-too-big.yaml \
	tests/fixtures/inventory/bad/range-reversed.yaml \
	tests/fixtures/inventory/bad/range-self-dup.yaml \
	tests/fixtures/inventory/bad/range-stray-bracket.yaml \
	tests/fixtures/inventory/bad/range-too-big.yaml \
	tests/fixtures/inventory/bad/range-total-too-big.yaml \
	tests/fixtures/inventory/bad/range-unclosed.yaml \
	tests/fixtures/inventory/bad/root-list.yaml \
	tests/fixtures/inventory/bad/scenario-file.yaml \
	tests/fixtures/inventory/bad/slots-mapping.yaml \
	tests/fixtures/inventory/bad/slots-range.yaml \
	tests/fixtures/inventory/bad/syntax-bad-indent.yaml \
	tests/fixtures/inventory/bad/syntax-tab.yaml \
	tests/fixtures/inventory/bad/syntax-unclosed-quote.yaml \
	tests/fixtures/inventory/bad/tag.yaml \
	tests/fixtures/inventory/bad/two-documents.yaml \
	tests/fixtures/inventory/bad/unknown-top-key-far.yaml \
	tests/fixtures/inventory/bad/unknown-top-key.yaml \
	tests/fixtures/inventory/bad/user-bad.yaml \
	tests/fixtures/inventory/bad/user-empty.yaml \
	tests/fixtures/inventory/bad/version-2.yaml \
	tests/fixtures/inventory/bad/version-mapping.yaml \
	tests/fixtures/inventory/bad/version-not-first.yaml \
	tests/fixtures/inventory/bad/workdir-dotdot.yaml \
	tests/fixtures/inventory/bad/workdir-relative.yaml \
	tests/fixtures/inventory/bad/workdir-root.yaml \
	tests/fixtures/inventory/bad/workdir-space.yaml \
	tests/fixtures/inventory/bad/workdir-tilde.yaml
