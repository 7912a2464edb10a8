#!/usr/bin/env bash
# fsftp-basic.sh's battery through OpenSSH's sshd: with the in-process
# client (the default, also without ssh in PATH) and with -S ssh.
FSFTP_BATTERY=sshd exec bash "${top_srcdir:-.}/tests/regress/fsftp-basic.sh"
