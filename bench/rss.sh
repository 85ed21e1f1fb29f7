#!/bin/sh
# rss.sh PID GUEST_BYTES - a process's resident memory minus what its guest
# RAM mapping (the mapping GUEST_BYTES long) has resident, in KiB:
# "total_kib guest_kib overhead_kib".
pid=$1 size_kib=$(($2 / 1024))
awk -v want="$size_kib" '
	/^[0-9a-f]+-[0-9a-f]+ / { inguest = 0 }
	/^Size:/ { inguest = ($2 == want) }
	/^Rss:/ { total += $2; if (inguest) guest += $2 }
	END { printf "%d %d %d\n", total, guest, total - guest }
' "/proc/$pid/smaps"
