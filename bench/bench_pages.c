/* bench_pages: what memory touched for the first time costs on this machine. Maps a block
 * (MADV_HUGEPAGE, as bigmem does), writes it whole (the first touch: faults, clearing, and on
 * a virtual machine the host backing the pages), writes it again (memory already touched),
 * unmaps it; once cold, once again at once, and once more after an idle pause, which on a
 * guest with free page reporting gives the freed memory back to the host meanwhile. Prints
 * seconds per GiB of each.
 * Usage: bench_pages [MIB] [PAUSE_S] (default 1024 MiB, 10 s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Map, touch, rewrite, unmap `bytes`; prints the two writes in s per GiB. */
static int round_trip(const char *what, size_t bytes)
{
    unsigned char *p =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bench_pages: mmap");
        return 1;
    }
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    double gib = (double)bytes / (double)(1u << 30);
    double t0 = now_s();
    memset(p, 1, bytes);
    double first = now_s() - t0;
    t0 = now_s();
    memset(p, 2, bytes);
    double again = now_s() - t0;
    /* Read one byte back so the writes cannot be dropped. */
    volatile unsigned char sink = p[bytes / 2];
    (void)sink;
    munmap(p, bytes);
    printf("  %-28s first touch %6.3f s/GiB, rewrite %6.3f s/GiB\n", what, first / gib,
           again / gib);
    return 0;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
    unsigned pause_s = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10;
    if (mib == 0 || argc > 3) {
        fprintf(stderr, "usage: bench_pages [MIB] [PAUSE_S]\n");
        return 2;
    }
    size_t bytes = mib << 20;
    printf("%zu MiB, pause %u s\n", mib, pause_s);
    if (round_trip("cold", bytes) || round_trip("mapped again at once", bytes)) return 1;
    sleep(pause_s);
    char what[48];
    snprintf(what, sizeof what, "mapped again after %u s", pause_s);
    return round_trip(what, bytes);
}
