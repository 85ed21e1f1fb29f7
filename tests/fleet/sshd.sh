#!/usr/bin/env bash
# tests/fleet/sshd.sh - fake fleet hosts for tests: real OpenSSH servers run
# as the current user, one per host, host N on 127.0.0.N and a free port,
# each with its own generated host key, sshd_config, pid and log under
# DIR/hN/.  A host "crash" is SIGKILL of its sshd and every process under
# it, a "partition" SIGSTOP of them.
#
#   sshd.sh keys DIR            user keys DIR/id_ed25519 and DIR/id_rsa, both
#                               in DIR/authorized_keys
#   sshd.sh start DIR N [KIND]  start host N with a KIND host key: ed25519
#                               (default), ecdsa, rsa, or both (ed25519 and
#                               ecdsa); prints "127.0.0.N PORT"
#   sshd.sh rekey DIR N         give host N a new ed25519 key, restart it on
#                               the same address and port
#   sshd.sh crash DIR N         SIGKILL host N's sshd and its descendants
#   sshd.sh partition DIR N     SIGSTOP them;   sshd.sh heal DIR N: SIGCONT
#   sshd.sh agent DIR KEY       start ssh-agent on DIR/agent.sock, add KEY
#   sshd.sh stopall DIR         kill every host and agent of DIR
#
# With SSHD_OWNER_PID set, the first start also leaves a reaper that runs
# "stopall DIR" once that process is gone, or after SSHD_MAX_LIFE seconds
# (default 600), so a test that crashes leaks nothing for long; with
# SSHD_REAP_RM=1 it removes DIR too.
set -u

SSHD=/usr/sbin/sshd

die() { echo "sshd.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: sshd.sh keys|start|rekey|crash|partition|heal|agent|stopall DIR [N] ..."
cmd=$1 dir=$2
shift 2
mkdir -p "$dir" || die "cannot create $dir"
dir=$(cd "$dir" && pwd)

# "pid ppid state" of every process, from /proc (no procps needed); the
# command name in parentheses may hold anything, so cut after its last ')'.
procs() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		sed -n 's/^\([0-9]*\) (.*) \([A-Za-z]\) \([0-9]*\) .*/\1 \3 \2/p'
}

# Every descendant of the given pids, the pids included.
tree() {
	procs | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
		{ parent[$1] = $2 }
		END {
			do {
				grew = 0
				for (p in parent)
					if (!(p in want) && (parent[p] in want)) { want[p] = 1; grew = 1 }
			} while (grew)
			for (p in want) if (p in parent) print p
		}'
}

host_pid() { cat "$dir/h$1/sshd.pid" 2>/dev/null; }

# Does any of the given pids still run?  A zombie does not count: once
# killed, the fake host's processes wait for their adopter to reap them.
alive() {
	local p st
	for p; do
		st=$(sed -n 's/.*) \([A-Za-z]\) .*/\1/p' "/proc/$p/stat" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && return 0
	done
	return 1
}

# Stop the whole tree first so nothing forks or is re-parented away while
# it is being listed, then send the signal to all of it.
signal_host() { # N SIGNAL
	local pid pids i
	pid=$(host_pid "$1") || return 0
	[ -n "$pid" ] || return 0
	pids=$(tree "$pid")
	[ -n "$pids" ] || return 0
	if [ "$2" = KILL ] || [ "$2" = STOP ]; then
		for i in 1 2 3; do
			kill -STOP $pids 2>/dev/null
			pids=$(tree $pids)
		done
	fi
	[ "$2" = STOP ] || kill "-$2" $pids 2>/dev/null
	if [ "$2" = KILL ]; then
		for i in $(seq 50); do
			alive $pids || break
			sleep 0.1
		done
	fi
	return 0
}

start_reaper() {
	[ -n "${SSHD_OWNER_PID:-}" ] || return 0
	[ -s "$dir/reaper.pid" ] && kill -0 "$(cat "$dir/reaper.pid")" 2>/dev/null && return 0
	(
		trap '' HUP INT TERM
		end=$((SECONDS + ${SSHD_MAX_LIFE:-600}))
		while kill -0 "$SSHD_OWNER_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do
			sleep 0.5
		done
		rm -f "$dir/reaper.pid"
		SSHD_OWNER_PID= "$0" stopall "$dir"
		[ "${SSHD_REAP_RM:-}" = 1 ] && rm -rf "$dir"
	) </dev/null >/dev/null 2>&1 &
	echo $! > "$dir/reaper.pid"
}

# HOME points into DIR so that the commands do not depend on the real
# user's dotfiles (bash reads ~/.bashrc for ssh commands on Debian).
write_config() { # N ADDR PORT KEYFILE...
	local n=$1 addr=$2 port=$3 k
	shift 3
	mkdir -p "$dir/home"
	for k; do echo "HostKey $k"; done > "$dir/h$n/sshd_config"
	cat >> "$dir/h$n/sshd_config" <<EOF
ListenAddress $addr
Port $port
PidFile $dir/h$n/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
MaxStartups 100
SetEnv HOME=$dir/home
EOF
}

# Run host N's sshd; 0 once it listens, 2 if its port was taken, 1 else.
launch() { # N ADDR PORT
	local log="$dir/h$1/log" i
	: > "$log"
	local pid
	"$SSHD" -D -f "$dir/h$1/sshd_config" -E "$log" </dev/null >/dev/null 2>&1 &
	pid=$!
	echo $pid > "$dir/h$1/sshd.pid"
	for i in $(seq 400); do	# 20 s: sshd starts slowly on a loaded machine
		grep -q "Server listening on $2 port $3" "$log" && return 0
		# $pid, not the pid file: sshd rewrites that file as it starts,
		# and a read in between finds it empty.
		if ! kill -0 "$pid" 2>/dev/null; then
			grep -q -i "address already in use\|cannot bind" "$log" && return 2
			return 1
		fi
		sleep 0.05
	done
	return 1
}

case $cmd in
keys)
	for t in ed25519 rsa; do
		[ -f "$dir/id_$t" ] || ssh-keygen -q -t $t -N '' -C "vmorch-test-$t" \
			-f "$dir/id_$t" || die "ssh-keygen -t $t failed"
	done
	cat "$dir/id_ed25519.pub" "$dir/id_rsa.pub" > "$dir/authorized_keys"
	;;
start)
	n=${1:?host number}
	kind=${2:-ed25519}
	[ -x "$SSHD" ] || die "$SSHD not found (apt-get install openssh-server)"
	if grep -q "^$(id -un):!" /etc/shadow 2>/dev/null; then
		die "the account $(id -un) is locked (! in /etc/shadow); sshd with UsePAM no refuses it"
	fi
	mkdir -p /run/sshd "$dir/h$n" || die "cannot create /run/sshd"
	addr=127.0.0.$n
	case $kind in
	ed25519|ecdsa|rsa) kinds=$kind ;;
	both) kinds="ed25519 ecdsa" ;;
	*) die "unknown host key kind $kind" ;;
	esac
	rm -f "$dir/h$n"/ssh_host_*
	keys=
	for k in $kinds; do
		ssh-keygen -q -t "$k" -N '' -C "h$n" -f "$dir/h$n/ssh_host_${k}_key" ||
			die "ssh-keygen host key"
		keys="$keys $dir/h$n/ssh_host_${k}_key"
	done
	start_reaper
	for try in $(seq 20); do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		write_config "$n" "$addr" "$port" $keys
		launch "$n" "$addr" "$port"
		case $? in
		0) echo "$port" > "$dir/h$n/port"; echo "$addr $port"; exit 0 ;;
		2) continue ;;
		*) die "sshd for host $n did not start: $(tail -3 "$dir/h$n/log")" ;;
		esac
	done
	die "no free port for host $n"
	;;
rekey)
	n=${1:?host number}
	port=$(cat "$dir/h$n/port") || die "host $n was never started"
	signal_host "$n" KILL
	key="$dir/h$n/ssh_host_ed25519_key"
	rm -f "$dir/h$n"/ssh_host_*
	ssh-keygen -q -t ed25519 -N '' -C "h$n-new" -f "$key" || die "ssh-keygen host key"
	write_config "$n" "127.0.0.$n" "$port" "$key"
	for try in $(seq 150); do	# the old socket may linger (15 s: a loaded machine)
		launch "$n" "127.0.0.$n" "$port" && { echo "127.0.0.$n $port"; exit 0; }
		sleep 0.1
	done
	die "sshd for host $n did not restart: $(tail -3 "$dir/h$n/log")"
	;;
crash)
	signal_host "${1:?host number}" KILL
	;;
partition)
	signal_host "${1:?host number}" STOP
	;;
heal)
	signal_host "${1:?host number}" CONT
	;;
agent)
	k=${1:?key file}
	rm -f "$dir/agent.sock"
	out=$(ssh-agent -a "$dir/agent.sock" -s) || die "ssh-agent failed"
	pid=$(printf '%s\n' "$out" | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
	echo "$pid" > "$dir/agent.pid"
	start_reaper
	SSH_AUTH_SOCK="$dir/agent.sock" ssh-add -q "$k" 2>/dev/null || die "ssh-add $k failed"
	echo "$dir/agent.sock"
	;;
stopall)
	for h in "$dir"/h*/; do
		[ -d "$h" ] || continue
		n=${h%/}; n=${n##*/h}
		signal_host "$n" KILL
	done
	[ -s "$dir/agent.pid" ] && kill -KILL "$(cat "$dir/agent.pid")" 2>/dev/null
	rm -f "$dir/agent.pid"
	if [ -s "$dir/reaper.pid" ]; then
		kill -KILL "$(cat "$dir/reaper.pid")" 2>/dev/null
		rm -f "$dir/reaper.pid"
	fi
	exit 0
	;;
*)
	die "unknown command $cmd"
	;;
esac
