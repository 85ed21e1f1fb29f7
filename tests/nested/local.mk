EXTRA_DIST += scripts/fetch-test-kernel.sh
