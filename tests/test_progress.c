/*
 * test_progress.c - the live progress line of `vmorch run` on a terminal
 * (orchestrator/progress.c): it fits the terminal's width, asked at each
 * redraw so that a resized window is followed, and never wraps; the count
 * of failures is red when colour is on and it is shown.  A pseudo-terminal
 * stands in for the user's.
 */
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "orchestrator/progress.h"

struct term {
	int master, slave;
	FILE *out;
};

static void term_open(struct term *t, unsigned short cols)
{
	struct winsize ws = { .ws_row = 24, .ws_col = cols };

	assert_int_equal(openpty(&t->master, &t->slave, NULL, NULL, &ws), 0);
	t->out = fdopen(t->slave, "w");
	assert_non_null(t->out);
	fcntl(t->master, F_SETFL, O_NONBLOCK);
}

static void term_resize(struct term *t, unsigned short cols)
{
	struct winsize ws = { .ws_row = 24, .ws_col = cols };

	assert_int_equal(ioctl(t->master, TIOCSWINSZ, &ws), 0);
}

/* What reached the terminal since the last call, without the escapes. */
static size_t term_visible(struct term *t, char *out, size_t cap, bool *red)
{
	char raw[4096];
	ssize_t n = read(t->master, raw, sizeof(raw) - 1);
	size_t len = 0;

	*red = false;
	for (ssize_t i = 0; n > 0 && i < n; i++) {
		if (raw[i] == '\033') {
			*red |= i + 5 <= n && !memcmp(raw + i, "\033[31m", 5);
			while (i < n && !((raw[i] >= 'A' && raw[i] <= 'Z') ||
					  (raw[i] >= 'a' && raw[i] <= 'z')))
				i++;
			continue;
		}
		if (raw[i] != '\r' && len + 1 < cap)
			out[len++] = raw[i];
	}
	out[len] = 0;
	return len;
}

static void test_line_fits_the_terminal(void **state)
{
	struct pool_progress p = { .total = 1000, .done = 250, .failed = 3,
				   .elapsed_ms = 60000 };
	struct progress pg;
	struct term t;
	char seen[4096];
	bool red;

	(void)state;
	unsetenv("NO_COLOR");
	term_open(&t, 60);
	progress_init(&pg, t.out, false);
	progress_update(&pg, &p);
	assert_true(term_visible(&t, seen, sizeof(seen), &red) <= 59);
	assert_null(strchr(seen, '\n'));
	assert_non_null(strstr(seen, "250/1000 jobs  3 failed"));
	assert_true(red);

	/* Wider: the whole line, rates and ETA included. */
	term_resize(&t, 140);
	p.done = 500;
	p.elapsed_ms = 120000;
	progress_update(&pg, &p);
	assert_true(term_visible(&t, seen, sizeof(seen), &red) < 140);
	assert_non_null(strstr(seen, "B/s  ETA 2:00"));

	/* Narrower than the failures: cut, and no colour left open. */
	term_resize(&t, 30);
	p.done = 750;
	p.elapsed_ms = 180000;
	progress_update(&pg, &p);
	assert_true(term_visible(&t, seen, sizeof(seen), &red) <= 29);
	assert_false(red);
	fclose(t.out);
	close(t.master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_fits_the_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
