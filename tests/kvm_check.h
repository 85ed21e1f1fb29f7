/*
 * kvm_check.h - how tests that need KVM decide to run.  With /dev/kvm they
 * run.  Without it they skip, unless VMORCH_REQUIRE_KVM=1 (CI sets it when
 * the machine has KVM), where a missing /dev/kvm is a failure.
 */
#ifndef VMORCH_TEST_KVM_CHECK_H
#define VMORCH_TEST_KVM_CHECK_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE_KVM()                                                           \
	do {                                                                    \
		const char *req_ = getenv("VMORCH_REQUIRE_KVM");                \
		if (access("/dev/kvm", R_OK | W_OK) != 0) {                     \
			if (req_ && strcmp(req_, "1") == 0)                     \
				fail_msg("/dev/kvm is not usable and "          \
					 "VMORCH_REQUIRE_KVM=1");               \
			skip();                                                 \
		}                                                               \
	} while (0)

#endif
