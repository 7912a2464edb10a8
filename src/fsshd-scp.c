/*
 * fsshd's in-process scp server.  An exec request whose command is an
 * scp server command line ("scp -t ..." from a client copying to us,
 * "scp -f ..." from one copying from us) is not handed to the user's
 * shell: the session's child, which already has the account's identity
 * and root directory, parses the line itself (quotes as sh would, no
 * expansion but ~ and -f's globs, any other shell syntax refused) and
 * runs the scp engine on its stdin and stdout, the channel.  So a
 * chrooted account needs no scp or shell inside its chroot, and nothing
 * in a file name ever reaches a shell.
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/scp.h"
#include "fsshd-scp.h"

int
fsshd_scp_command(const char *command)
{
	struct scp_command *cmd = NULL;
	int ok;

	/* A cheap test first: most commands are not scp at all. */
	if (strncmp(command, "scp ", 4) != 0)
		return 0;
	ok = scp_command_parse(command, "/", &cmd) == 0;
	scp_command_free(cmd);
	return ok;
}

int
fsshd_scp_sftp_ok(const char *sftp_cmdline)
{
	char line[1024], *p, *save = NULL;
	int expect_arg = 0;

	if (strlen(sftp_cmdline) >= sizeof(line))
		return 0;
	memcpy(line, sftp_cmdline, strlen(sftp_cmdline) + 1);
	p = strtok_r(line, " \t", &save);	/* internal-sftp */
	while ((p = strtok_r(NULL, " \t", &save)) != NULL) {
		if (expect_arg) {
			expect_arg = 0;
			continue;
		}
		/* Logging flags only: -R, -P, -p, -d, -u change what is served. */
		if (strcmp(p, "-e") == 0)
			continue;
		if (strcmp(p, "-l") == 0 || strcmp(p, "-f") == 0) {
			expect_arg = 1;
			continue;
		}
		return 0;
	}
	return 1;
}

int
fsshd_scp_shell_ok(const char *shell)
{
	static const char *const refused[] = { "nologin", "false" };
	const char *base = strrchr(shell, '/');
	size_t i;

	base = base != NULL ? base + 1 : shell;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcmp(base, refused[i]) == 0)
			return 0;
	return access(shell, X_OK) == 0;
}

/*
 * The child did not exec: the session's descriptors (the connection's
 * socket, the pipes' other ends, which would keep stdin from ever ending)
 * must go.
 */
static void
fsshd_scp_closefrom(int lowfd)
{
	long fd, max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0U) == 0)
		return;
#endif
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close((int)fd);
}

int
fsshd_scp_serve(const char *command)
{
	struct scp_command *cmd = NULL;
	struct scp_config cfg;
	struct scp *e = NULL;
	char cwd[PATH_MAX];
	mode_t um;
	int r;

	/* stderr is the channel's now: nothing may be logged there. */
	log_set_handler(NULL, NULL);
	fsshd_scp_closefrom(STDERR_FILENO + 1);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '/', cwd[1] = '\0';
	if (scp_command_parse(command, cwd, &cmd) != 0)
		return 1;
	um = umask(0);
	umask(um);
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = cmd->role;
	cfg.recursive = cmd->recursive;
	cfg.preserve = cmd->preserve;
	cfg.target_dir = cmd->target_dir;
	cfg.remote = 1;
	cfg.umask = (uint32_t)um;
	cfg.fs = scp_fs_local();
	if (cmd->role == SCP_SINK)
		cfg.target = cmd->paths[0];
	else
		cfg.paths = (const char *const *)cmd->paths;
	if ((r = scp_new(&cfg, &e)) == 0)
		r = scp_run_fds(e, STDIN_FILENO, STDOUT_FILENO);
	scp_free(e);
	scp_command_free(cmd);
	return r == 0 ? 0 : 1;
}
