#!/bin/sh
# tests/cli-docs.sh - the command line's own documentation: every command
# `vmorch --help` lists has a section in vmorch(1), answers `vmorch help
# CMD` exactly as `vmorch CMD --help`, and is offered by the bash
# completion.  Speaks TAP.
set -u

. "$(dirname "$0")/cli-lib.sh"
cli_start cli-docs

cmds=$("$V" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
[ -n "$cmds" ]
ok $? "vmorch --help lists the commands ($(echo $cmds))"
for c in $cmds; do
	grep -Eq "^\.BI? \"?$c([ \"]|$)" "$src/doc/vmorch.1"
	ok $? "vmorch(1) has a section for $c"
	"$V" help "$c" > "$tmp/a" 2>&1
	ra=$?
	"$V" "$c" --help > "$tmp/b" 2>&1
	rb=$?
	cmp -s "$tmp/a" "$tmp/b" && [ "$ra" = 0 ] && [ "$rb" = 0 ]
	ok $? "vmorch help $c is vmorch $c --help"
	grep -q "cmds=\".*\\<$c\\>" "$src/contrib/bash-completion/vmorch"
	ok $? "the bash completion offers $c"
done
"$V" help nosuch >/dev/null 2>&1
is $? 2 "vmorch help of an unknown command: exit 2"
if command -v bash >/dev/null; then
	bash -c ". '$src/contrib/bash-completion/vmorch'; COMP_WORDS=(vmorch hi); COMP_CWORD=1;
		_vmorch; echo \${COMPREPLY[*]}" > "$tmp/c" 2>&1
	is "$(cat "$tmp/c")" history "the completion completes a command"
fi

tap_end
