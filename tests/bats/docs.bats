#!/usr/bin/env bats
# Every program's options, as its --help prints them, must appear in its
# man page (rendered), and in its bash, zsh and fish completions; the man
# pages must pass mandoc's lint and the completions their shells' syntax
# checks.  Daemons have section 8 pages, tools section 1.

load helpers

ROOT="$BATS_TEST_DIRNAME/../.."

programs() {
	local p
	for p in "$NSQ_BIN_DIR"/*; do
		[ -x "$p" ] && basename "$p"
	done
}

man_page() {	# the page of program $1
	case $1 in
	nsqd|nsqlookupd) echo "$ROOT/man/$1.8" ;;
	*) echo "$ROOT/man/$1.1" ;;
	esac
}

long_options() {	# every --option in the --help of program $1
	"$NSQ_BIN_DIR/$1" --help 2>&1 | grep -o -- '--[a-z0-9][a-z0-9-]*' |
	    sort -u
}

@test "docs: every program has a man page that mandoc lints clean" {
	local p page n=0
	for p in $(programs); do
		page=$(man_page "$p")
		[ -f "$page" ] || fail "$p has no man page $page"
		run mandoc -T lint -W warning "$page"
		[ "$status" -eq 0 ] || fail "mandoc lint $page: $output"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "docs: every option of --help is in the man page" {
	local p o text missing=
	for p in $(programs); do
		text=$(MANWIDTH=250 mandoc -T utf8 "$(man_page "$p")" | col -b)
		for o in $(long_options "$p"); do
			grep -qE -- "$o([^a-z0-9-]|\$)" <<<"$text" ||
			    missing="$missing $p:$o"
		done
	done
	[ -z "$missing" ] || fail "not in the man pages:$missing"
}

@test "docs: every option of --help is in the bash, zsh and fish completions" {
	local p o missing=
	for p in $(programs); do
		for f in "$ROOT/completions/bash/$p" "$ROOT/completions/zsh/_$p" \
		    "$ROOT/completions/fish/$p.fish"; do
			[ -f "$f" ] || { missing="$missing $f"; continue; }
			for o in $(long_options "$p"); do
				case $f in
				*.fish) grep -qE -- "-l ${o#--}( |\$)" "$f" ;;
				*) grep -qE -- "$o([^a-z0-9-]|\$)" "$f" ;;
				esac || missing="$missing $p:$o($(basename "$f"))"
			done
		done
	done
	[ -z "$missing" ] || fail "not in the completions:$missing"
}

@test "docs: completions pass their shells' syntax checks" {
	local f
	for f in "$ROOT"/completions/bash/*; do
		bash -n "$f" || fail "bash -n $f"
	done
	for f in "$ROOT"/completions/zsh/_*; do
		zsh -n "$f" || fail "zsh -n $f"
	done
	for f in "$ROOT"/completions/fish/*.fish; do
		fish -n "$f" || fail "fish -n $f"
	done
}
