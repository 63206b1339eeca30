/* bench/runone.c: run one command once and report what it cost.
 *
 *     runone STDIN OUTPUT ARGV...
 *
 * Forks, points the child's stdin at STDIN and its stdout and stderr at
 * OUTPUT (appended), execs ARGV, reaps it with wait4 and prints one line:
 *     WALL_SECONDS CPU_SECONDS PEAK_RSS_KIB EXIT_CODE
 * CPU is user + system of the command and of every child it waited for;
 * peak RSS is ru_maxrss (the largest of them).  This small program forks
 * the command itself because Linux carries the parent's RSS high-water
 * mark into a child across exec: spawned from a Python interpreter, even
 * `true` would report 14 MiB.  From here the floor is about 1 MiB. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double t0, t1;
	int status, code;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: runone STDIN OUTPUT ARGV...\n");
		return 64;
	}
	t0 = now();
	pid = fork();
	if (pid < 0) {
		perror("runone: fork");
		return 71;
	}
	if (pid == 0) {
		int in = open(argv[1], O_RDONLY);
		int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(126);
		close(in);
		close(out);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("runone: wait4");
		return 71;
	}
	t1 = now();
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("%.6f %.6f %ld %d\n", t1 - t0,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	       ru.ru_maxrss, code);
	return 0;
}
