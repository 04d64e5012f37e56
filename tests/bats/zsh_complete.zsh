# zsh zsh_complete.zsh FPATH_DIR OUTFILE LINE: complete LINE (TAB at its
# end) in an interactive zsh on a pseudo-terminal, with the completion
# functions of FPATH_DIR, and append to OUTFILE every match offered, one a
# line, then "N=<number of matches>".  Used by docs.bats.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
# The widget runs the normal completer, then reports the count.
zpty -w z "_cap() { _main_complete; print -r -- \"N=\$compstate[nmatches]\" >>$2; }"
# Every match added (calls that only collect into arrays pass through).
zpty -w z "compadd() { if [[ \$* != *-[OAD]* ]]; then local -a a; builtin compadd -O a \"\$@\"; print -rl -- \"\${a[@]}\" >>$2; fi; builtin compadd \"\$@\"; }"
zpty -w z 'zle -C cap complete-word _cap; bindkey "^I" cap'
zpty -n -w z "$3"$'\t'
for i in {1..100}; do
	[[ -e $2 ]] && grep -q '^N=' $2 && break
	sleep 0.1
done
zpty -d z
grep -q '^N=' $2
