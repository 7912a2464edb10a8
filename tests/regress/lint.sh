#!/usr/bin/env bash
# Source lint: banned functions, trailing whitespace, indentation by tabs,
# and line length in lib/ and src/.  Prints TAP; each finding is listed.
set -u
cd "${top_srcdir:-.}" || exit 1
files=$(find lib src tests/unit tests/fuzz -name '*.[ch]' 2>/dev/null | sort)
n=0
check() {
	local what=$1 found=$2
	n=$((n + 1))
	if [ -z "$found" ]; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		printf '%s\n' "$found" | head -20 | sed 's/^/#   /'
	fi
}
# Comments may name a banned call; only code lines count.
banned=$(grep -nE '(^|[^_[:alnum:]>.])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|system|popen|rand|srand)[[:space:]]*\(' $files |
    grep -vE ':[0-9]+:[[:space:]]*(/?\*|//)' || true)
check "no banned functions (strcpy strcat sprintf vsprintf gets strtok atoi atol system popen rand)" "$banned"
check "no trailing whitespace" "$(grep -nE '[[:space:]]+$' $files tests/*.sh tests/regress/*.sh configure.ac Makefile.am lib/*.am src/*.am tests/*.am man/*.am 2>/dev/null || true)"
check "indentation uses tabs (no line starts with 8 spaces)" "$(grep -nE '^ {8}' $files || true)"
long=$(for f in $(printf '%s\n' $files | grep -E '^(lib|src)/'); do
	expand -t 8 "$f" | awk -v f="$f" 'length($0) > 100 { printf "%s:%d: %d columns\n", f, NR, length($0) }'
done)
check "lines in lib/ and src/ at most 100 columns" "$long"
echo "1..$n"
