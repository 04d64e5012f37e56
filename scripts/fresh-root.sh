#!/bin/sh
# scripts/fresh-root.sh [DIR]: the README's two commands on a fresh machine.
#
# Builds a minimal Debian 12 root (debootstrap --variant=minbase bookworm,
# with git and ca-certificates added and an /etc/hosts that has no line for
# the host name, as many containers and cloud images have), clones this
# checkout's HEAD into it with ../shared beside it, and inside it runs, as
# root and with nothing else installed:
#   1. ./make.sh run in the background, then the README's walk-through
#      (seq 1 5 | nsq-pub; nsq-tail through nsqlookupd -n 5), which must
#      print 1 to 5;
#   2. ./make.sh test, whose last line must be "N passed, 0 failed".
# It prints each step's result and time, and exits 0 only if both passed.
#
# Not part of `make test`: it needs root (chroot, mounts) and takes about
# 20 minutes.  DIR (default /var/tmp/nsq-fresh-root) is made anew; the
# root's logs stay in DIR/log after the run.  The chroot shares this
# machine's network: ports 4150, 4151, 4160 and 4161 must be free.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/nsq-fresh-root}
logs=$root.log
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
	echo "fresh-root: run as root (debootstrap and chroot need it)" >&2
	exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq debootstrap >/dev/null
fi
# The mirror this machine's apt already uses (debootstrap's own default
# where there is none).
mirror=$(awk '/^URIs:/ { print $2; exit }' \
    /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {
    print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)

mounted=
cleanup() {
	for m in $mounted; do
		umount -l "$m" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

rm -rf "$root" "$logs"
mkdir -p "$root" "$logs"
t0=$(date +%s)
echo "fresh-root: debootstrap $suite into $root${mirror:+ from $mirror}"
debootstrap --variant=minbase --include=git,ca-certificates "$suite" \
    "$root" $mirror >"$logs/debootstrap.log" 2>&1 || {
	tail -20 "$logs/debootstrap.log" >&2
	exit 1
}
t1=$(date +%s)
echo "fresh-root: root made in $((t1 - t0)) s"

# What a fresh machine has: no line for its own host name.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$root/etc/hosts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's own network trust, as CI has it: a local certificate
# authority (a proxy's, say) and the variables that name the bundle.  A
# machine with none has nothing to carry.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt \
	    "$root/usr/local/share/ca-certificates/"
	chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
trust_env=
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE \
    GIT_SSL_CAINFO http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY \
    NO_PROXY; do
	eval "val=\${$v:-}"
	[ -z "$val" ] || trust_env="$trust_env $v=$val"
done
for m in proc sys dev dev/pts; do
	mkdir -p "$root/$m"
	case $m in
	proc)	mount -t proc proc "$root/proc" ;;
	sys)	mount -t sysfs sys "$root/sys" ;;
	*)	mount --bind "/$m" "$root/$m" ;;
	esac
	mounted="$root/$m $mounted"
done
mkdir -p "$root/dev/shm"
mount -t tmpfs shm "$root/dev/shm"
mounted="$root/dev/shm $mounted"

# The project as a clean clone, shared/ beside it without write bits, as
# CI has them.
mkdir -p "$root/work"
git clone -q "$here" "$root/work/main"
if [ -d "$here/../shared" ]; then
	cp -r "$here/../shared" "$root/work/shared"
	chmod -R a-w "$root/work/shared"
fi

# inside SCRIPT: run a sh script in the root, in the project's folder,
# with a clean environment.
clean_env="/usr/bin/env -i HOME=/root TERM=dumb
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    $trust_env"
inside() {
	chroot "$root" $clean_env /bin/sh -c "cd /work/main && $1"
}

# registered: nsqlookupd on 4161 lists the nsqd on 4150 (bash's /dev/tcp:
# the root has no curl before the test packages are in).
registered() {
	inside 'bash -c "exec 3<>/dev/tcp/127.0.0.1/4161 &&
	    printf \"GET /nodes HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3"' \
	    2>/dev/null | grep -q '"tcp_port":4150'
}

status=0
echo "fresh-root: make is $(inside 'command -v make || echo absent')," \
    "/usr/bin/time is $(inside '[ -x /usr/bin/time ] && echo there || echo absent')"

# 1. ./make.sh run in a process group of its own, as a terminal runs it,
# then the walk-through.  A background job of a script starts with SIGINT
# ignored (and then sh cannot trap it): env gives it back its default.
t2=$(date +%s)
setsid chroot "$root" /usr/bin/env --default-signal=INT $clean_env \
    /bin/sh -c 'cd /work/main && exec ./make.sh run' >"$logs/run.log" 2>&1 &
run_pid=$!
ready=
i=0
while [ "$i" -lt 1200 ]; do	# 20 minutes at most: it installs and builds
	if registered; then
		ready=1
		break
	fi
	kill -0 "$run_pid" 2>/dev/null || break
	sleep 1
	i=$((i + 1))
done
if [ -z "$ready" ]; then
	echo "fresh-root: ./make.sh run did not start nsqd and nsqlookupd" >&2
	tail -20 "$logs/run.log" >&2
	status=1
else
	t3=$(date +%s)
	echo "fresh-root: ./make.sh run serving after $((t3 - t2)) s"
	inside 'seq 1 5 | bin/nsq-pub --topic walkthrough \
	    --nsqd-tcp-address 127.0.0.1:4150 &&
	    timeout 60 bin/nsq-tail --topic walkthrough \
	    --lookupd-http-address 127.0.0.1:4161 -n 5' \
	    >"$logs/walkthrough.out" 2>"$logs/walkthrough.err" || true
	if [ "$(cat "$logs/walkthrough.out")" = "$(seq 1 5)" ]; then
		echo "fresh-root: walk-through printed 1 to 5"
	else
		echo "fresh-root: walk-through printed:" \
		    "$(tr '\n' ' ' <"$logs/walkthrough.out")" >&2
		tail -5 "$logs/walkthrough.err" >&2
		status=1
	fi
fi
# Ctrl-C, as the README says: nsqd and nsqlookupd stop cleanly.
kill -INT "-$run_pid" 2>/dev/null || true
i=0
while kill -0 "$run_pid" 2>/dev/null && [ "$i" -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
if kill -0 "$run_pid" 2>/dev/null; then
	echo "fresh-root: ./make.sh run still running 60 s after SIGINT" >&2
	kill -KILL "-$run_pid" 2>/dev/null || true
	status=1
fi
run_rc=0
wait "$run_pid" 2>/dev/null || run_rc=$?
echo "fresh-root: ./make.sh run exited $run_rc after SIGINT"
# 130 is make's own status when Ctrl-C reaches it, as at a terminal; what
# matters is that nsqd wrote what it held and said goodbye.
case $run_rc in
0|130)	;;
*)	status=1 ;;
esac
if ! grep -q 'NSQ: bye' "$logs/run.log"; then
	echo "fresh-root: nsqd did not stop cleanly" >&2
	status=1
fi
# Nothing in the demo may depend on the host name resolving.
if grep -E 'does not resolve|Name or service not known' "$logs/run.log" >&2
then
	echo "fresh-root: make run's daemons could not resolve a name" >&2
	status=1
fi

# 2. ./make.sh test, as CI runs it.
t4=$(date +%s)
inside 'CI=true ./make.sh test </dev/null' >"$logs/test.log" 2>&1 || status=1
t5=$(date +%s)
last=$(tail -1 "$logs/test.log")
echo "fresh-root: ./make.sh test in $((t5 - t4)) s: $last"
grep '^not ok' "$logs/test.log" >&2 || true
case $last in
*" passed, 0 failed") ;;
*) status=1 ;;
esac
echo "fresh-root: logs in $logs"
exit "$status"
