# tests/tap.sh - sourced by the TAP shell tests: ok/is and a skip that
# fails under CI.  The test prints "1..$n" at its end and exits with
# [ "$failed" -eq 0 ] (tap_end does both).
n=0
failed=0

skip_all() {	# under CI a missing prerequisite is a failure
	if [ -n "${CI:-}" ]; then
		echo "1..1"
		echo "not ok 1 - $1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

ok() {	# ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

is() {	# is GOT WANT DESCRIPTION
	[ "$1" = "$2" ]
	ok $? "$3 (got '$1', want '$2')"
}

skip_n() {	# skip_n COUNT REASON: COUNT checks skipped
	_k=0
	while [ "$_k" -lt "$1" ]; do
		n=$((n + 1))
		echo "ok $n # SKIP $2"
		_k=$((_k + 1))
	done
}

tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
