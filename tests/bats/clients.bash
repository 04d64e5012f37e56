# tests/bats/clients.bash: what the nsq-pub and nsq-tail suites share.
# Loaded after helpers.bash; setup() sets PUB, TAIL and ADDR (the nsqd
# started for the test).

# drain TOPIC N [ADDR]: the N messages of TOPIC (channel "c"), one a line.
drain() {
	timeout 60 "$TAIL" --topic "$1" --channel c \
	    --nsqd-tcp-address "${3:-$ADDR}" -n "$2" 2>"$BATS_TEST_TMPDIR/drain.err"
}

# check_docs PROG: as docs.bats, for one tool: every --option of --help in
# the rendered man page (which mandoc lints clean) and in the bash, zsh and
# fish completions (which pass their shells' syntax checks when installed).
check_docs() {
	local p=$1 root=$BATS_TEST_DIRNAME/../.. o f text sh
	local page=$root/man/$p.1
	local -a comps=("$root/completions/bash/$p" "$root/completions/zsh/_$p"
	    "$root/completions/fish/$p.fish")
	[[ -f $page ]] || fail "no man page $page"
	run mandoc -T lint -W warning "$page"
	[[ $status -eq 0 ]] || fail "mandoc lint: $output"
	text=$(MANWIDTH=250 mandoc -T utf8 "$page" | col -b)
	for o in $("$NSQ_BIN_DIR/$p" --help 2>&1 |
	    grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
		grep -qE -- "$o([^a-z0-9-]|\$)" <<<"$text" ||
		    fail "$o is not in $page"
		for f in "${comps[@]}"; do
			[[ -f $f ]] || fail "no completion $f"
			case $f in
			*.fish) grep -qE -- "-l ${o#--}( |\$)" "$f" ;;
			*) grep -qE -- "$o([^a-z0-9-]|\$)" "$f" ;;
			esac || fail "$o is not in $f"
		done
	done
	for sh in bash zsh fish; do
		command -v "$sh" >/dev/null || continue
		case $sh in
		bash) f=${comps[0]} ;;
		zsh) f=${comps[1]} ;;
		fish) f=${comps[2]} ;;
		esac
		"$sh" -n "$f" || fail "$sh -n $f"
	done
}

# asan: true when the binaries were built with AddressSanitizer.
asan() {
	nm -D "$PUB" 2>/dev/null | grep -q __asan_init ||
	    nm "$PUB" 2>/dev/null | grep -q __asan_init
}

# tail_bg NAME ARGS...: nsq-tail ARGS in the background (under timeout),
# its stdout in $BATS_TEST_TMPDIR/NAME.out, its stderr in NAME's log.
tail_bg() {
	local name=$1
	shift
	start_bg "$name" bash -c 'out=$1; shift; exec "$@" >"$out"' _ \
	    "$BATS_TEST_TMPDIR/$name.out" timeout 120 "$TAIL" "$@"
}

# subscribed NAME [N]: waits until background nsq-tail NAME has had N
# subscriptions (1 by default).
subscribed() {
	wait_until 20 eval "[[ \$(grep -c ') subscribed\$' \"\$${1}_LOG\") -ge ${2:-1} ]]"
}

# lines_in FILE N: waits until FILE has at least N lines.
lines_in() {
	wait_until 30 eval "[[ -f '$1' && \$(wc -l <'$1') -ge $2 ]]"
}
