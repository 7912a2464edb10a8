# Shared part of the configuration regress tests (sourced after lib.sh).

# config_same NAME EXCLUDE-REGEX: one check that OpenSSH's output in
# $TMP/o.txt and Ferry's in $TMP/f.txt agree, line by line in the order
# printed, for the keywords both print minus those EXCLUDE-REGEX matches;
# the difference is shown when they do not.
config_same() {
	local name=$1 excl=$2

	awk '{print $1}' "$TMP/o.txt" | sort -u >"$TMP/ko"
	awk '{print $1}' "$TMP/f.txt" | sort -u >"$TMP/kf"
	comm -12 "$TMP/ko" "$TMP/kf" | grep -Ev "$excl" >"$TMP/keys"
	awk 'NR==FNR {k[$1]=1; next} ($1 in k)' "$TMP/keys" "$TMP/o.txt" \
	    >"$TMP/o2"
	awk 'NR==FNR {k[$1]=1; next} ($1 in k)' "$TMP/keys" "$TMP/f.txt" \
	    >"$TMP/f2"
	if diff "$TMP/o2" "$TMP/f2" >"$TMP/diff"; then
		ok 0 "$name ($(wc -l <"$TMP/f2") lines equal)"
	else
		ok 1 "$name"
		sed 's/^/# /' "$TMP/diff"
	fi
}
