# orchestrator/inventory.mk - the fleet inventory (`vmorch-hosts: 1`): the
# positioned YAML tree, host name ranges and the loader (libinventory.a),
# their test and fixtures, and the format's man page.
# Included from the top-level Makefile.am (non-recursive build).

noinst_LIBRARIES += orchestrator/libinventory.a
orchestrator_libinventory_a_SOURCES = \
	orchestrator/inventory.c orchestrator/inventory.h \
	orchestrator/inventory_select.c \
	orchestrator/host_range.c orchestrator/host_range.h \
	orchestrator/ytree.c orchestrator/ytree.h
orchestrator_libinventory_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)

# units.c (durations) lives in libscenario.a.
INVENTORY_LIBS = orchestrator/libinventory.a $(SCENARIO_LIBS)
