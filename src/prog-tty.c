/*
 * Secret prompts and signals: see prog-tty.h.
 *
 * The handler only records the signal; read() returns EINTR because
 * the handlers are installed without SA_RESTART, and prog_tty_check()
 * does the rest outside the handler: restore the settings and the
 * program's dispositions, raise the signal again (a default action
 * ends or stops the process right there), and on return either start
 * the prompt over (a stop) or give up.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "prog-tty.h"

static const int prog_tty_sigs[PROG_TTY_NSIGS] = {
	SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM,
	SIGTSTP, SIGTTIN, SIGTTOU,
};

static volatile sig_atomic_t prog_tty_pending[PROG_TTY_NSIGS];

static void
prog_tty_handler(int sig)
{
	size_t i;

	for (i = 0; i < PROG_TTY_NSIGS; i++)
		if (prog_tty_sigs[i] == sig)
			prog_tty_pending[i] = 1;
}

static int
prog_tty_is_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Install the handler for every signal the program does not ignore. */
static void
prog_tty_catch(struct prog_tty *t)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prog_tty_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the read of the answer must see EINTR. */
	for (i = 0; i < PROG_TTY_NSIGS; i++) {
		prog_tty_pending[i] = 0;
		if (sigaction(prog_tty_sigs[i], NULL, &t->old[i]) == -1)
			t->old[i].sa_handler = SIG_IGN;
		if (t->old[i].sa_handler == SIG_IGN)
			continue;
		if (sigaction(prog_tty_sigs[i], &sa, NULL) == -1)
			t->old[i].sa_handler = SIG_IGN;
	}
	t->caught = 1;
}

static void
prog_tty_uncatch(struct prog_tty *t)
{
	size_t i;

	if (!t->caught)
		return;
	for (i = 0; i < PROG_TTY_NSIGS; i++)
		if (t->old[i].sa_handler != SIG_IGN)
			(void)sigaction(prog_tty_sigs[i], &t->old[i], NULL);
	t->caught = 0;
}

/* Echo off; the settings to restore are already in t->saved. */
static int
prog_tty_set_noecho(struct prog_tty *t)
{
	struct termios noecho = t->saved;

	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(t->fd, TCSAFLUSH, &noecho) == -1)
		return -1;
	t->echo_off = 1;
	return 0;
}

int
prog_tty_noecho(struct prog_tty *t, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	if (!isatty(fd) || tcgetattr(fd, &t->saved) == -1)
		return -1;
	/* Caught first: no signal may find echo off and nobody to fix it. */
	prog_tty_catch(t);
	if (prog_tty_set_noecho(t) == -1) {
		prog_tty_uncatch(t);
		return -1;
	}
	return 0;
}

static void
prog_tty_settings_back(struct prog_tty *t)
{
	int saved_errno = errno;

	/*
	 * Once: from a background process group each try would raise
	 * SIGTTOU (caught here) and fail with EINTR again.
	 */
	if (t->echo_off) {
		(void)tcsetattr(t->fd, TCSAFLUSH, &t->saved);
		t->echo_off = 0;
	}
	errno = saved_errno;
}

int
prog_tty_check(struct prog_tty *t)
{
	int sig = 0, restart = 0, fatal_sig = 0;
	size_t i;

	if (!t->caught)
		return 0;
	for (i = 0; i < PROG_TTY_NSIGS; i++) {
		if (!prog_tty_pending[i])
			continue;
		prog_tty_pending[i] = 0;
		sig = prog_tty_sigs[i];
		/* As the program would have met it: settings back first. */
		prog_tty_settings_back(t);
		prog_tty_uncatch(t);
		(void)kill(getpid(), sig);
		if (prog_tty_is_stop(sig))
			restart = 1;
		else
			fatal_sig = 1;
		prog_tty_catch(t);
	}
	if (sig == 0)
		return 0;
	if (fatal_sig)
		return -1;
	/* Continued after a stop: echo off again, ask again. */
	if (restart && prog_tty_set_noecho(t) == -1)
		return -1;
	return 1;
}

void
prog_tty_restore(struct prog_tty *t)
{
	prog_tty_settings_back(t);
	prog_tty_uncatch(t);
}
