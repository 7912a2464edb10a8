/*
 * The transfer progress meter shared by fsftp and fscp (prog-meter.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ferry/sftp-client.h"
#include "prog-meter.h"

#define METER_FIXED	40	/* columns besides the name */

void
prog_meter_size(char *buf, size_t len, double v)
{
	static const char units[] = "BKMGTPE";
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u > 0 && v >= 999.5 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 9.95)
		snprintf(buf, len, "%.0f%c", v, units[u]);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
}

int
prog_meter_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* The time column: elapsed when finished, else the time left. */
static void
prog_meter_eta(char *buf, size_t len, double el, double bps, uint64_t total,
    uint64_t done, int finished)
{
	double left;

	if (finished) {
		snprintf(buf, len, "%02d:%02d", (int)el / 60, (int)el % 60);
		return;
	}
	if (bps <= 0 || total <= done) {
		snprintf(buf, len, "--:-- ETA");
		return;
	}
	left = (double)(total - done) / bps;
	if (left >= 100 * 3600)
		snprintf(buf, len, "--:-- ETA");
	else if (left >= 3600)
		snprintf(buf, len, "%d:%02d:%02d", (int)left / 3600,
		    (int)left % 3600 / 60, (int)left % 60);
	else
		snprintf(buf, len, "%02d:%02d ETA", (int)left / 60,
		    (int)left % 60);
}

void
prog_meter_draw(struct prog_meter *m, const char *name, uint64_t total,
    uint64_t done, int finished)
{
	char sz[16], rate[16], eta[32], *v;
	time_t now = time(NULL);
	double el, bps;
	int pct, namew;

	if (!finished && now == m->last && done != 0)
		return;
	if (m->start == 0 || (done == 0 && !finished))
		m->start = now;
	m->last = now;
	el = difftime(now, m->start);
	bps = el > 0 ? (double)done / el : (double)done;
	pct = total == 0 ? 100 : (int)(done * 100 / total);
	if (pct > 100)
		pct = 100;
	prog_meter_size(sz, sizeof(sz), (double)done);
	prog_meter_size(rate, sizeof(rate), bps);
	prog_meter_eta(eta, sizeof(eta), el, bps, total, done, finished);
	namew = prog_meter_width() - METER_FIXED;
	if (namew < 10)
		namew = 10;
	if ((v = sftp_client_vis(name)) == NULL)
		return;
	printf("\r%-*.*s %3d%% %8s %8s/s %9s", namew, namew, v, pct, sz,
	    rate, eta);
	if (finished) {
		printf("\n");
		m->start = 0;
	}
	fflush(stdout);
	free(v);
}
