/*
 * A slow disk for measurements: LD_PRELOAD this library and every fsync/fdatasync of the process takes
 * SLOW_FSYNC_MS milliseconds longer (sleeping, as a thread waiting for a slow device does). Reads and
 * unsynced writes are left alone: they go to the page cache, where a slow disk does not show. At exit it
 * prints how many syncs it delayed, so a run can prove the delay applied.
 *
 *   gcc -shared -fPIC -O2 -o /tmp/slow-fsync.so test/perf/slow-fsync.c -ldl
 *   SLOW_FSYNC_MS=10 LD_PRELOAD=/tmp/slow-fsync.so node ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_long syncs;

static void delay(void) {
  const char *ms = getenv("SLOW_FSYNC_MS");
  long value = ms ? atol(ms) : 0;
  atomic_fetch_add(&syncs, 1);
  if (value <= 0) return;
  struct timespec t = {value / 1000, (value % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  delay();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  delay();
  return real(fd);
}

__attribute__((destructor)) static void report(void) {
  fprintf(stderr, "[slow-fsync] %ld syncs delayed by %s ms each\n", (long)atomic_load(&syncs),
          getenv("SLOW_FSYNC_MS") ? getenv("SLOW_FSYNC_MS") : "0");
}
