#!/usr/bin/env bash
# sftp-server-basic.sh through OpenSSH's sshd instead of a pipe: every
# transfer, file operation and ls -l comparison over a real SSH session.
SFTP_VIA_SSHD=1
. "${top_srcdir:-.}/tests/regress/sftp-server-basic.sh"
