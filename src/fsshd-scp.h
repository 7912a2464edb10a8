/*
 * fsshd's in-process scp server (src/fsshd-scp.c): "scp -t/-f" command
 * lines are served by fsshd itself, never through a shell, so chrooted
 * accounts need no binaries.
 */
#ifndef FERRY_FSSHD_SCP_H
#define FERRY_FSSHD_SCP_H

/*
 * 1 when command is an scp server command line fsshd serves itself
 * (scp [-v] [-r] [-p] [-d] -t|-f [--] path...; quoted as for sh, with no
 * other shell syntax), else 0.
 */
int fsshd_scp_command(const char *command);

/*
 * 1 when an sftp-only account whose ForceCommand is sftp_cmdline
 * ("internal-sftp [flags]") may use scp too: only when the flags are
 * logging ones (-e, -l, -f), since scp cannot honour read-only mode,
 * request lists, a start directory or a umask the way SFTP does.
 */
int fsshd_scp_sftp_ok(const char *sftp_cmdline);

/*
 * 1 when an account with this login shell may run commands, and so
 * scp: not for nologin or false, nor a shell that cannot be run.
 */
int fsshd_scp_shell_ok(const char *shell);

/*
 * In the session's child, after its stdin, stdout and stderr are the
 * channel's and it is in the working directory: serve command with the
 * scp engine.  Returns the exit status (0, or 1 when anything failed).
 */
int fsshd_scp_serve(const char *command);

#endif /* FERRY_FSSHD_SCP_H */
