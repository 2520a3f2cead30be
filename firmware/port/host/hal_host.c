/*
 * hal_host.c: hal.h for a host (Linux/POSIX) build of the firmware, used by
 * tests to drive the real firmware sources through hil.session without an
 * emulator. The UART is a TCP stream socket chosen by environment:
 *   HIL_HOST_LISTEN_FD  an inherited listening socket: accept one client
 *                       (the test binds port 0 and connects pyserial's
 *                       socket:// to it, so there is no port race)
 *   HIL_HOST_FD         an inherited, already connected socket
 *   HIL_HOST_RECONNECT  if set (with HIL_HOST_LISTEN_FD): when the host
 *                       hangs up, accept the next client instead of exiting,
 *                       like a board whose cable was pulled and plugged back
 * Ticks are CLOCK_MONOTONIC nanoseconds, labelled HAL_CYCLES_HOST.
 * CPU faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) are mapped onto Cortex-M
 * CFSR bits and reported through hil_on_fault like on a board.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hal.h"

static int link_fd = -1;
static int listen_fd = -1; /* kept only for HIL_HOST_RECONNECT */
static uint8_t txbuf[4096];
static size_t txlen;

static void die(const char *what)
{
    fprintf(stderr, "hal_host: %s\n", what);
    exit(2);
}

static int env_fd(const char *name)
{
    const char *v = getenv(name);
    return v ? atoi(v) : -1;
}

/* The host hung up: wait for the next one, or end (nothing left to serve). */
static void host_gone(void)
{
    if (listen_fd < 0)
        exit(0);
    close(link_fd);
    link_fd = accept(listen_fd, NULL, NULL);
    if (link_fd < 0)
        exit(0);
}

static void flush_tx(void)
{
    size_t off = 0;
    while (off < txlen) {
        ssize_t n = write(link_fd, txbuf + off, txlen - off);
        if (n <= 0) {
            host_gone(); /* bytes in flight are lost, as on a cut cable */
            break;
        }
        off += (size_t)n;
    }
    txlen = 0;
}

/* CFSR bits as on Cortex-M (MMFSR | BFSR << 8 | UFSR << 16). */
#define CFSR_DACCVIOL (1u << 1)
#define CFSR_MMARVALID (1u << 7)
#define CFSR_PRECISERR (1u << 9)
#define CFSR_BFARVALID (1u << 15)
#define CFSR_UNDEFINSTR (1u << 16)
#define CFSR_DIVBYZERO (1u << 25)
#define HFSR_FORCED (1u << 30)

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    struct hal_fault f;
    memset(&f, 0, sizeof f);
    uint32_t addr = (uint32_t)(uintptr_t)info->si_addr;
    f.hfsr = HFSR_FORCED;
    f.exc_return = 0xFFFFFFF9u;
    switch (sig) {
    case SIGSEGV:
        f.cfsr = CFSR_DACCVIOL | CFSR_MMARVALID;
        f.mmfar = addr;
        break;
    case SIGBUS:
        f.cfsr = CFSR_PRECISERR | CFSR_BFARVALID;
        f.bfar = addr;
        break;
    case SIGFPE:
        f.cfsr = CFSR_DIVBYZERO;
        f.pc = addr;
        break;
    default: /* SIGILL */
        f.cfsr = CFSR_UNDEFINSTR;
        f.pc = addr;
        break;
    }
    hil_on_fault(&f);
}

void hal_init(void)
{
    int fd = env_fd("HIL_HOST_FD");
    int lfd = env_fd("HIL_HOST_LISTEN_FD");
    if (fd < 0 && lfd >= 0) {
        fd = accept(lfd, NULL, NULL);
        if (getenv("HIL_HOST_RECONNECT"))
            listen_fd = lfd;
        else
            close(lfd);
    }
    if (fd < 0)
        die("set HIL_HOST_LISTEN_FD or HIL_HOST_FD to an inherited socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on non-TCP */
    link_fd = fd;
    signal(SIGPIPE, SIG_IGN);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
}

/* Buffered; a 0x00 ends every frame, so flushing there sends whole frames. */
void hal_uart_putc(uint8_t byte)
{
    txbuf[txlen++] = byte;
    if (byte == 0 || txlen == sizeof txbuf)
        flush_tx();
}

uint8_t hal_uart_getc(void)
{
    uint8_t b;
    flush_tx();
    for (;;) {
        ssize_t n = read(link_fd, &b, 1);
        if (n == 1)
            return b;
        if (n == 0 || (n < 0 && errno != EINTR))
            host_gone();
    }
}

uint64_t hal_cycles_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum hal_cycle_source hal_cycle_source(void) { return HAL_CYCLES_HOST; }

uint32_t hal_cycle_source_hz(void) { return 1000000000u; }

void hal_reset(void)
{
    flush_tx();
    exit(0);
}

/* A host process cannot hang unnoticed (the test's timeouts and the
 * sanitizers watch it), so the host port runs no watchdog. */
void hal_watchdog_start(uint32_t ms) { (void)ms; }

void hal_watchdog_feed(void) {}

enum hal_reset_cause hal_reset_cause(void) { return HAL_RESET_UNKNOWN; }
