/*
 * The transfer progress meter of fsftp and fscp, drawn as OpenSSH's
 * sftp and scp draw theirs: name, percentage, bytes, rate and ETA (or
 * the elapsed time once finished) on one line rewritten in place.
 */
#ifndef FERRY_PROG_METER_H
#define FERRY_PROG_METER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One file's meter; zero it before the first file. */
struct prog_meter {
	time_t start;
	time_t last;
};

/* A size in at most four characters, as fmt_scaled(3): 999B 9.8K 977K. */
void prog_meter_size(char *buf, size_t len, double v);

/* The terminal's width in columns (80 when it cannot be had). */
int prog_meter_width(void);

/*
 * Draw the line for name (control characters made visible): done of
 * total bytes; at most once a second unless finished, which ends the
 * line and starts the next file's clock.  done == 0 and not finished
 * restarts the clock.
 */
void prog_meter_draw(struct prog_meter *m, const char *name, uint64_t total,
    uint64_t done, int finished);

#endif /* FERRY_PROG_METER_H */
