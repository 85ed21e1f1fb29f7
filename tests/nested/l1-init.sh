#!/bin/sh
# l1-init.sh - /init of the L1 machine that tests/nested/run-l1.sh boots
# under QEMU's software emulation.  It mounts the kernel's file systems,
# loads kvm and kvm_amd (the list in /etc/l1-modules, dependencies first),
# checks /dev/kvm, runs /run.sh in /payload with its output on the console
# between two frame lines, and powers off:
#
#   === NESTED-BEGIN uptime=SECONDS ===
#   ...whatever the payload prints...
#   === NESTED-END rc=STATUS uptime=SECONDS ===
#
# A failure before the payload prints one line "=== NESTED-ERROR why ===".
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/vmorch/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TMPDIR=/tmp
mkdir -p /proc /sys /dev /tmp /root /var/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# Only errors on the console from here (an RCU stall report among them:
# run-l1.sh watches for it), so the payload's frame stays clean.
echo "4 4 1 7" > /proc/sys/kernel/printk

uptime_s() { cut -d' ' -f1 /proc/uptime; }

fail() {
	echo "=== NESTED-ERROR $* ==="
	dmesg | tail -20
	sync
	poweroff -f
	sleep 5
	exit 1
}

for m in $(cat /etc/l1-modules); do
	insmod "/lib/modules/$m" 2>/tmp/insmod.err ||
		fail "insmod $m: $(cat /tmp/insmod.err)"
done
[ -c /dev/kvm ] || fail "no /dev/kvm after loading the modules"

[ -f /etc/l1-env ] && . /etc/l1-env
cd /payload || fail "no /payload"
echo "=== NESTED-BEGIN uptime=$(uptime_s) ==="
sh /run.sh </dev/null 2>&1
rc=$?
echo "=== NESTED-END rc=$rc uptime=$(uptime_s) ==="
sync
poweroff -f
sleep 5
