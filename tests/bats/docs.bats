#!/usr/bin/env bats
# Every program's options, as its --help prints them, must appear in its
# man page (rendered), and in its bash, zsh and fish completions; the man
# pages must pass mandoc's lint and the completions their shells' syntax
# checks; after an option that takes a value, bash, fish and zsh offer its
# values (when --help lists them) or nothing, never the flags (bash's
# function driven through COMP_WORDS, fish's `complete -C`, zsh on a
# pseudo-terminal through zsh_complete.zsh).  Daemons have section 8 pages,
# tools section 1.

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
	nsqd|nsqlookupd|nsqadmin) echo "$ROOT/man/$1.8" ;;
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

# value_options PROG: the --options of PROG's --help that take a value
# (a placeholder follows them), with the placeholder: "--opt PLACEHOLDER".
value_options() {
	"$NSQ_BIN_DIR/$1" --help 2>&1 |
	    grep -oE -- '--[a-z0-9][a-z0-9-]* [A-Z]+' | sort -u
}

# bash_complete PROG WORD...: the words bash's completion offers for the
# line "PROG WORD...", the last word being completed, one a line.
bash_complete() {
	bash -c 'source "$1"; shift
		fn=$(complete -p "$1" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/completions/bash/$1" "$@"
}

# fish_complete PROG LINE: the candidates fish offers for "PROG LINE".
fish_complete() {
	(cd "$BATS_TEST_TMPDIR/files" && fish -c 'source $argv[1]
		complete -C $argv[2]' "$ROOT/completions/fish/$1.fish" "$1 $2" |
	    cut -f1)
}

# zsh_complete PROG LINE: the matches zsh offers for "PROG LINE".
zsh_complete() {
	local out=$BATS_TEST_TMPDIR/zsh.$RANDOM
	(cd "$BATS_TEST_TMPDIR/files" && timeout 30 zsh -f \
	    "$BATS_TEST_DIRNAME/zsh_complete.zsh" "$ROOT/completions/zsh" "$out" \
	    "$1 $2") || fail "zsh completion of '$1 $2' did not run"
	grep -v '^N=' "$out" || :
}

# The enumerated values, as each program's --help states them.
ENUMS=(
	"nsqd --log-level:debug info warn error fatal"
	"nsqd --auth-http-request-method:get post"
	"nsqd --tls-client-auth-policy:require require-verify"
	"nsqd --tls-min-version:tls1.0 tls1.1 tls1.2 tls1.3"
	"nsqd --tls-required=:true false tcp-https"
	"nsqlookupd --log-level:debug info warn error fatal"
	"nsqadmin --log-level:debug info warn error fatal"
	"nsq-to-file --log-level:debug info warn error fatal"
	"nsq-tail --format:text json"
	"nsq-to-nsq --mode:round-robin hostpool epsilon-greedy"
	"nsq-pub --tls-min-version:ssl3.0 tls1.0 tls1.1 tls1.2 tls1.3"
	"nsq-to-file --tls-min-version:ssl3.0 tls1.0 tls1.1 tls1.2 tls1.3"
	"nsq-to-http --tls-min-version:ssl3.0 tls1.0 tls1.1 tls1.2 tls1.3"
	"nsq-to-nsq --tls-min-version:ssl3.0 tls1.0 tls1.1 tls1.2 tls1.3"
)

@test "docs: after an option that takes a value, completions offer no flags" {
	local p o arg got e line vals w
	mkdir -p "$BATS_TEST_TMPDIR/files"
	touch "$BATS_TEST_TMPDIR/files/afile"
	for p in $(programs); do
		while read -r o arg; do
			# bash: nothing starting with '-', in both Go forms.
			for w in "$o" "${o#-}"; do
				got=$(bash_complete "$p" "$w" "")
				grep -q '^-' <<<"$got" && fail "bash: $p $w offers flags"
			done
			# fish: no flags, and files only for a FILE.
			got=$(fish_complete "$p" "$o ")
			grep -q '^-' <<<"$got" && fail "fish: $p $o offers flags"
			if [[ $arg != FILE ]] && grep -q afile <<<"$got"; then
				fail "fish: $p $o offers files"
			fi
		done < <(value_options "$p")
	done
	# zsh (slower: a pseudo-terminal each): the report's example.
	got=$(zsh_complete nsqd "--msg-timeout ")
	[[ -z $got ]] || fail "zsh: nsqd --msg-timeout offers: $got"
	got=$(zsh_complete nsqd "--msg")
	assert_equal "$got" --msg-timeout
	# An enumerated option offers its values, in every shell.
	for e in "${ENUMS[@]}"; do
		line=${e%%:*} vals=${e#*:}
		p=${line%% *} o=${line#* }
		# The values are the ones --help states.
		for w in $vals; do
			"$NSQ_BIN_DIR/$p" --help 2>&1 | grep -E -- "${o%=}( |\\[)" |
			    grep -qw -- "$w" || fail "$p --help: no $w for $o"
		done
		if [[ $o == *= ]]; then
			got=$(bash_complete "$p" "${o%=}" = "")
		else
			got=$(bash_complete "$p" "$o" "")
		fi
		assert_equal "$(sort <<<"$got")" "$(tr ' ' '\n' <<<"$vals" | sort)"
		if [[ $o == *= ]]; then
			got=$(fish_complete "$p" "$o" | sed 's/^.*=//')
		else
			got=$(fish_complete "$p" "$o ")
		fi
		assert_equal "$(sort <<<"$got")" "$(tr ' ' '\n' <<<"$vals" | sort)"
		if [[ $o == *= ]]; then
			got=$(zsh_complete "$p" "$o")
		else
			got=$(zsh_complete "$p" "$o ")
		fi
		assert_equal "$(sort <<<"$got")" "$(tr ' ' '\n' <<<"$vals" | sort)"
	done
	# A flag that takes no value is followed by the flags, as before.
	got=$(bash_complete nsqd --deflate --msg)
	assert_equal "$got" --msg-timeout
	got=$(bash_complete nsqd --tls-required --ms)
	assert_equal "$got" --msg-timeout
}

# nsq(3) documents lib/nsq.h: every function the header declares (a name
# followed by "(" outside a typedef) has its synopsis line and is
# described below it, and the page lints clean.
@test "docs: every function of nsq.h is in nsq(3)" {
	local f syn desc missing= n=0
	run mandoc -T lint -W warning "$ROOT/man/nsq.3"
	[ "$status" -eq 0 ] || fail "mandoc lint nsq.3: $output"
	syn=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$ROOT/man/nsq.3")
	desc=$(sed -n '/^\.Sh DESCRIPTION/,$p' "$ROOT/man/nsq.3")
	for f in $(grep -v '^typedef' "$ROOT/lib/nsq.h" |
	    grep -oE '\bnsq_[a-z0-9_]+\(' | tr -d '(' | sort -u); do
		n=$((n + 1))
		grep -qE "^\\.Fn $f( |\$)" <<<"$syn" ||
		    missing="$missing $f(synopsis)"
		grep -qE "^\\.Fn $f( |\$)" <<<"$desc" ||
		    missing="$missing $f(description)"
	done
	[ "$n" -ge 35 ] || fail "only $n functions found in nsq.h"
	[ -z "$missing" ] || fail "not in nsq(3):$missing"
}
