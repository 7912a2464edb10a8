/*
 * Terminal echo for secret prompts (passwords, passphrases,
 * keyboard-interactive answers).  While a prompt waits with echo off,
 * the signals that end or stop a process at a terminal are caught, as
 * readpassphrase(3) does: the terminal settings are restored first,
 * then the signal is raised again with the program's own disposition,
 * so that ^C leaves no terminal without echo behind.  After a stop
 * (^Z) the program continues with echo off again and the prompt is
 * asked anew.
 */
#ifndef FERRY_PROG_TTY_H
#define FERRY_PROG_TTY_H

#include <signal.h>
#include <termios.h>

/* The signals caught while echo is off (see prog-tty.c). */
#define PROG_TTY_NSIGS	9

struct prog_tty {
	int fd;
	int echo_off;			/* the settings are changed */
	int caught;			/* the handlers are installed */
	struct termios saved;
	struct sigaction old[PROG_TTY_NSIGS];
};

/*
 * Turn echo (and ECHONL) off on the terminal fd, catching the signals
 * above.  0, or -1 when fd is not a terminal or its settings cannot be
 * changed (nothing is changed then; t is still safe to pass to the
 * other calls).
 */
int prog_tty_noecho(struct prog_tty *t, int fd);

/*
 * Call before each read of the answer and after a read failed with
 * EINTR.  0: nothing happened, read on.  1: the process was stopped
 * and has continued: echo is off again; discard what was typed and
 * print the prompt again.  -1: a signal that ends the process arrived
 * and the program's handler did not end it: echo is on again; give up
 * the prompt (the caller still calls prog_tty_restore()).
 */
int prog_tty_check(struct prog_tty *t);

/* Restore the terminal settings and the signal dispositions (idempotent). */
void prog_tty_restore(struct prog_tty *t);

#endif /* FERRY_PROG_TTY_H */
