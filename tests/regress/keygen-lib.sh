# Shared setup of the fssh-keygen regress tests (sourced after lib.sh):
# OpenSSH's ssh-keygen to compare with, fssh-keygen in $K, and $TMP as
# the working directory.
keygen_setup() {
	require_cmd ssh-keygen
	K=$(ferry_bin fssh-keygen)
	[ -x "$K" ] || skip_all "fssh-keygen is not built"
	cd "$TMP" || exit 1
}

# same DESCRIPTION FERRY OPENSSH: one check that the two strings are
# equal; both are shown when they are not.
same() {
	if [ "$2" = "$3" ]; then
		ok 0 "$1"
	else
		diag "ferry:   $2"
		diag "openssh: $3"
		ok 1 "$1"
	fi
}
