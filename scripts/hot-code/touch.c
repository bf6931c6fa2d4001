// touch.so, preloaded into duet-app by scripts/hot-code.sh: finds which pages of the program's
// own code and read-only data it uses. At load it takes every permission away from the
// program's non-writable segments; the first access to a page faults, and the handler gives
// that page its permissions back and returns, so the access is retried and succeeds. Afterwards
// /proc/PID/maps lists the pages given back (anything not "---p"): the pages used so far. The
// handler makes one system call and keeps no state, so it is safe wherever the fault happens.
// Only the program named by TOUCH_EXE is traced (WebKit's processes inherit the preload).
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_RANGES 16
#define PAGE 4096UL

static unsigned long range_start[MAX_RANGES], range_end[MAX_RANGES];
static int range_prot[MAX_RANGES];
static int ranges;

static void on_fault(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)context;
  unsigned long page = (unsigned long)info->si_addr & ~(PAGE - 1);
  for (int i = 0; i < ranges; i++) {
    if (page >= range_start[i] && page < range_end[i]) {
      mprotect((void *)page, PAGE, range_prot[i]);
      return;
    }
  }
  // A real fault: let it crash the way it would have.
  signal(SIGSEGV, SIG_DFL);
}

__attribute__((constructor)) static void start_tracing(void) {
  const char *wanted = getenv("TOUCH_EXE");
  char exe[1024];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (!wanted || n <= 0) return;
  exe[n] = 0;
  const char *base = strrchr(exe, '/');
  if (strcmp(base ? base + 1 : exe, wanted) != 0) return;

  FILE *maps = fopen("/proc/self/maps", "r");
  if (!maps) return;
  char line[1400];
  while (fgets(line, sizeof line, maps) && ranges < MAX_RANGES) {
    unsigned long start, end;
    char perms[5], path[1100] = "";
    if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %1099s", &start, &end, perms, path) < 3) continue;
    if (strcmp(path, exe) != 0 || perms[1] == 'w') continue;
    range_start[ranges] = start;
    range_end[ranges] = end;
    range_prot[ranges] = (perms[0] == 'r' ? PROT_READ : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
    ranges++;
  }
  fclose(maps);

  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &action, NULL);
  for (int i = 0; i < ranges; i++) {
    mprotect((void *)range_start[i], range_end[i] - range_start[i], PROT_NONE);
  }
}
