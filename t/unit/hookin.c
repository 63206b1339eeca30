/* Unit tests for lib/hookin: the post-receive input parser. */
#include <stdio.h>
#include <string.h>

#include <git2.h>

#include "hookin.h"
#include "tap.h"
#include "util.h"

#define A40 "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"
#define B40 "ffffffffffffffffffffffffffffffffffffffff"
#define Z40 "0000000000000000000000000000000000000000"
#define A64 "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d1a2b"
#define B64 "abababababababababababababababababababababababababababababababab"

static int parses(const char *buf, size_t len, size_t *n_out, char *err)
{
	struct hookin_update *u;
	size_t n;
	int rc = hookin_parse(&u, &n, buf, len, err);
	if (rc == 0) {
		*n_out = n;
		hookin_free(u, n);
	}
	return rc;
}

static void refused(const char *title, const char *buf, size_t len, const char *needle)
{
	char err[ERR_MAX] = "";
	size_t n;

	is_int(parses(buf, len, &n, err), -1, "%s is refused", title);
	ok(strstr(err, needle) != NULL, "%s: the error says '%s' (got: %s)", title, needle, err);
}

int main(void)
{
	char err[ERR_MAX] = "";
	struct hookin_update *u;
	size_t n = 0;

	git_libgit2_init();

	{
		const char in[] = A40 " " B40 " refs/heads/main\n" Z40 " " A40 " refs/tags/1.2.3\n";
		ok(hookin_parse(&u, &n, in, strlen(in), err) == 0, "two valid lines parse");
		is_int((long long)n, 2, "two updates");
		is_str(u[0].old_id, A40, "old id of line 1");
		is_str(u[0].new_id, B40, "new id of line 1");
		is_str(u[0].ref, "refs/heads/main", "ref of line 1");
		is_str(u[1].ref, "refs/tags/1.2.3", "ref of line 2");
		ok(!hookin_is_deletion(&u[0]) && !hookin_is_deletion(&u[1]), "creations and updates are not deletions");
		ok(hookin_wanted(&u[0], "refs/heads/main"), "an exact pattern matches");
		ok(!hookin_wanted(&u[0], "refs/heads/mainline refs/heads/dev"), "other refs do not match");
		ok(hookin_wanted(&u[1], "refs/heads/main refs/tags/[0-9]*.[0-9]*.[0-9]*"), "a tag glob matches");
		is_str(hookin_short_ref(u[0].ref), "main", "short name of a branch");
		is_str(hookin_short_ref(u[1].ref), "1.2.3", "short name of a tag");
		hookin_free(u, n);
	}
	{
		const char in[] = A40 " " Z40 " refs/heads/main\n";
		ok(hookin_parse(&u, &n, in, strlen(in), err) == 0 && n == 1, "a deletion parses");
		ok(hookin_is_deletion(&u[0]) && !hookin_wanted(&u[0], "refs/heads/main"),
		   "a deletion of a watched ref never asks for a deploy");
		hookin_free(u, n);
	}
	{
		const char in[] = A64 " " B64 " refs/heads/main";
		ok(hookin_parse(&u, &n, in, strlen(in), err) == 0 && n == 1,
		   "64-digit ids (SHA-256) and a missing final newline are accepted");
		hookin_free(u, n);
	}
	ok(parses("", 0, &n, err) == 0 && n == 0, "empty input is no update");

	refused("a line of garbage", "hello world\n", 12, "line 1: the old id");
	refused("a bad second line", A40 " " B40 " refs/heads/main\nxyz\n",
	        strlen(A40 " " B40 " refs/heads/main\nxyz\n"), "line 2:");
	refused("a short id", "1a2b " B40 " refs/heads/main\n", strlen("1a2b " B40 " refs/heads/main\n"), "old id");
	refused("a non-hex id", B40 " g" A40 " refs/heads/main\n", strlen(B40 " g" A40 " refs/heads/main\n"), "new id");
	{
		const char in[] = A40 " " B40 "  refs/heads/main\n";
		refused("a double space", in, strlen(in), "not a valid ref name");
	}
	{
		const char in[] = A40 " " B64 " refs/heads/main\n";
		refused("ids of different lengths", in, strlen(in), "differ in length");
	}
	{
		const char in[] = A40 " " B40 " refs/heads/ma..in\n";
		refused("a ref name with '..'", in, strlen(in), "line 1: not a valid ref name");
	}
	{
		const char in[] = A40 " " B40 " refs/heads/main\r\n";
		refused("a carriage return", in, strlen(in), "not a valid ref name");
	}
	{
		const char in[] = A40 " " B40 " main\n";
		refused("a ref outside refs/", in, strlen(in), "not a valid ref name");
	}
	{
		const char in[] = A40 " " B40 " refs/heads/ma\0in\n";
		refused("a NUL byte", in, sizeof(in) - 1, "NUL byte");
	}
	{
		const char in[] = A40 " " B40 " refs/heads/main\n\n";
		refused("an empty line", in, strlen(in), "line 2: empty line");
	}
	{
		static char in[HOOKIN_LINE_MAX + 200];
		memset(in, 'a', sizeof(in));
		memcpy(in, A40 " " B40 " refs/heads/", 94);
		in[sizeof(in) - 1] = '\n';
		refused("an over-long line", in, sizeof(in), "longer than");
	}

	ok(hookin_ref_matches("  refs/heads/a\trefs/heads/b ", "refs/heads/b"), "patterns may be separated by any blanks");
	ok(!hookin_ref_matches("", "refs/heads/main"), "no pattern matches nothing");

	git_libgit2_shutdown();
	return done_testing();
}
