/*
 * SIGHUP in configuration mode: the listener re-executes itself with the
 * same arguments, so the new process reads the configuration (and the
 * host keys) afresh, as sshd does.  Sessions are processes of their own
 * and go on undisturbed; the new listener reaps them as its children.
 *
 * To make a reload safe, the configuration is loaded first: when it does
 * not load (a typo after an edit), the listener logs why and keeps
 * serving with what it has instead of dying in the new image.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd-auth.h"

static volatile sig_atomic_t fsshd_reexec_hup;
static char fsshd_reexec_path[PATH_MAX];
static char **fsshd_reexec_argv;
static const char *fsshd_reexec_config;
static const char *const *fsshd_reexec_opts;
static size_t fsshd_reexec_nopts;

static void
fsshd_reexec_on_hup(int signo)
{
	(void)signo;
	fsshd_reexec_hup = 1;
}

int
fsshd_reexec_init(char **argv, const char *config, const char *const *opts,
    size_t nopts)
{
	struct sigaction sa;
	ssize_t n;

	/* The program itself, by absolute path: the working directory or
	 * PATH may differ by the time of the signal. */
	if (argv[0] != NULL && argv[0][0] == '/') {
		if (strlen(argv[0]) >= sizeof(fsshd_reexec_path))
			return FERR_ARGUMENT;
		memcpy(fsshd_reexec_path, argv[0], strlen(argv[0]) + 1);
	} else if (argv[0] != NULL && strchr(argv[0], '/') != NULL) {
		if (realpath(argv[0], fsshd_reexec_path) == NULL)
			return FERR_SYSTEM;
	} else {
		n = readlink("/proc/self/exe", fsshd_reexec_path,
		    sizeof(fsshd_reexec_path) - 1);
		if (n <= 0)
			return FERR_SYSTEM;
		fsshd_reexec_path[n] = '\0';
	}
	fsshd_reexec_argv = argv;
	fsshd_reexec_config = config;
	fsshd_reexec_opts = opts;
	fsshd_reexec_nopts = nopts;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fsshd_reexec_on_hup;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the listener's poll returns at once. */
	if (sigaction(SIGHUP, &sa, NULL) == -1)
		return FERR_SYSTEM;
	return 0;
}

int
fsshd_reexec_pending(void)
{
	return fsshd_reexec_hup != 0;
}

void
fsshd_reexec(void)
{
	struct sshdconf *conf = NULL;
	sigset_t none;
	int r;

	fsshd_reexec_hup = 0;
	if (fsshd_reexec_argv == NULL)
		return;
	if ((r = sshdconf_load(fsshd_reexec_config, fsshd_reexec_opts,
	    fsshd_reexec_nopts, &conf)) != 0) {
		log_error("Received SIGHUP, but %s does not load (%s): "
		    "keeping the running configuration", fsshd_reexec_config,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		return;
	}
	sshdconf_free(conf);
	log_info("Received SIGHUP; restarting.");
	/* The new image starts with no signal blocked, SIGHUP unhandled. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGHUP, SIG_DFL);
	/* Listening sockets are close-on-exec: the new image binds anew. */
	execv(fsshd_reexec_path, fsshd_reexec_argv);
	log_error("re-exec of %s failed: %s; keeping the running "
	    "configuration", fsshd_reexec_path, strerror(errno));
	if (fsshd_reexec_init(fsshd_reexec_argv, fsshd_reexec_config,
	    fsshd_reexec_opts, fsshd_reexec_nopts) != 0)
		log_error("SIGHUP handler: %s", strerror(errno));
}
