"""The stm32f7 port's clock and UART code, compiled for the host against a register model.

No STM32F7 emulator is at hand (QEMU 7.2 has no F7 machine), so clock.c and
uart.c are built with host gcc and their REG32/REG8 accesses routed to a
small model of the RCC, PWR, flash interface, USART3 and DMA1 stream 1:
ready flags follow their enable bits, SWS follows SW, USART3 hands out queued
bytes, and the DMA (when the USART requests it) copies them into memory in
circular mode, or never serves them, as on an emulator without USART DMA.
The tests then check what the code programs (RM0385 values) and how it
behaves. The harness is linked without PIE so the DMA's 32-bit memory
address is a real host address.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hil.datadirs import firmware_root

pytestmark = pytest.mark.needs_gcc

PORT = firmware_root() / "port" / "stm32f7"

FAKE_REGS_H = r"""
#include <stdint.h>
volatile uint32_t *fake_reg32(uint32_t addr);
volatile uint8_t *fake_reg8(uint32_t addr);
#define REG32(addr) (*fake_reg32((uint32_t)(addr)))
#define REG8(addr) (*fake_reg8((uint32_t)(addr)))
"""

HARNESS_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hal.h"
#include "stm32f7_port.h"
#include "stm32f7_regs.h"

static struct { uint32_t addr, value; } regs[128];
static int nregs;
static uint8_t bytes8[256];
static int hse_present = 1, pll_locks = 1;
static uint8_t rx_queue[32768];
static int rx_len, rx_pos;
/* DMA model: dma_serves 0 = USART DMA requests reach nothing (Renode);
 * dma_latency = register accesses before a received byte is taken. */
static int dma_serves = 1, dma_latency, dma_wait, dma_ndtr_init, dma_used, in_irq;
static uint32_t dma_done;

static uint32_t *slot(uint32_t addr)
{
    for (int i = 0; i < nregs; i++)
        if (regs[i].addr == addr)
            return &regs[i].value;
    regs[nregs].addr = addr;
    return &regs[nregs++].value;
}

/* Bring status bits in line with the last write, as the hardware would. */
static void settle(void)
{
    uint32_t *cr = slot(0x40023800u), *cfgr = slot(0x40023808u);
    uint32_t *pwr_cr1 = slot(0x40007000u), *pwr_csr1 = slot(0x40007004u);
    *cr = (*cr & RCC_CR_HSION) ? (*cr | RCC_CR_HSIRDY) : (*cr & ~RCC_CR_HSIRDY);
    int hse = (*cr & RCC_CR_HSEON) && (*cr & RCC_CR_HSEBYP) && hse_present;
    *cr = hse ? (*cr | RCC_CR_HSERDY) : (*cr & ~RCC_CR_HSERDY);
    int pll = (*cr & RCC_CR_PLLON) && pll_locks;
    *cr = pll ? (*cr | RCC_CR_PLLRDY) : (*cr & ~RCC_CR_PLLRDY);
    *pwr_csr1 = (*pwr_cr1 & PWR_CR1_ODEN) ? (*pwr_csr1 | PWR_CSR1_ODRDY) : (*pwr_csr1 & ~PWR_CSR1_ODRDY);
    *pwr_csr1 = (*pwr_cr1 & PWR_CR1_ODSWEN) ? (*pwr_csr1 | PWR_CSR1_ODSWRDY) : (*pwr_csr1 & ~PWR_CSR1_ODSWRDY);
    *cfgr = (*cfgr & ~RCC_CFGR_SWS_MASK) | ((*cfgr & RCC_CFGR_SW_MASK) << 2);
    uint32_t *isr = slot(USART3_BASE + 0x1Cu);
    *isr = USART_ISR_TXE | USART_ISR_TC | (rx_pos < rx_len ? USART_ISR_RXNE : 0);

    /* DMA1 stream 1 on channel 4, peripheral to memory, bytes, circular. */
    uint32_t *scr = slot(0x40026028u), *ndtr = slot(0x4002602Cu);
    uint32_t par = *slot(0x40026030u), m0ar = *slot(0x40026034u);
    int requested = (*slot(USART3_BASE + 0x08u) & USART_CR3_DMAR) && rx_pos < rx_len;
    if (!(*scr & DMA_SxCR_EN)) {
        dma_ndtr_init = 0;
    } else if (!dma_ndtr_init) {
        dma_ndtr_init = (int)*ndtr;   /* latched when the stream is enabled */
        dma_done = 0;
        dma_used = 1;
    }
    if (dma_serves && requested && dma_ndtr_init && ++dma_wait > dma_latency
        && ((*scr >> 25) & 7u) == 4u && par == USART3_BASE + 0x24u && (*scr & DMA_SxCR_CIRC)
        && (*scr & DMA_SxCR_MINC) && !(*scr & (3u << 6))) {
        dma_wait = 0;
        while (rx_pos < rx_len) {
            uint32_t off = dma_done++ % (uint32_t)dma_ndtr_init;
            *(volatile uint8_t *)(uintptr_t)(m0ar + off) = rx_queue[rx_pos++];
            *ndtr = (uint32_t)dma_ndtr_init - (uint32_t)(dma_done % (uint32_t)dma_ndtr_init);
        }
        *isr &= ~USART_ISR_RXNE;
    }
}

/* "idle": after this many IWDG_KR accesses a byte arrives over the UART. */
static int byte_after_feeds = -1, feeds_seen;

volatile uint32_t *fake_reg32(uint32_t addr)
{
    settle();
    if (addr == 0x40003000u && byte_after_feeds >= 0 && ++feeds_seen == byte_after_feeds) {
        rx_queue[rx_len++] = 0x5A;
        settle();
    }
    /* The RXNE interrupt, taken at a register access once enabled. */
    if (!in_irq && (*slot(USART3_BASE) & USART_CR1_RXNEIE) && (*slot(0xE000E104u) & (1u << 7))
        && rx_pos < rx_len) {
        in_irq = 1;
        USART3_IRQHandler();
        in_irq = 0;
        settle();
    }
    uint32_t *reg = slot(addr);
    if (addr == USART3_BASE + 0x24u && rx_pos < rx_len)   /* RDR: a read takes the byte */
        *reg = rx_queue[rx_pos++];
    return reg;
}

volatile uint8_t *fake_reg8(uint32_t addr) { return &bytes8[addr & 0xFFu]; }

#define SHOW(name, value) printf("%s=%lu\n", name, (unsigned long)(value))

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *what = argv[1];
    if (!strcmp(what, "clock")) {
        hse_present = atoi(argv[2]);
        pll_locks = atoi(argv[3]);
        SHOW("source", stm32f7_clock_init());
        SHOW("hz", SystemCoreClock);
        SHOW("pllcfgr", RCC_PLLCFGR);
        SHOW("cr", RCC_CR);
        SHOW("cfgr", RCC_CFGR);
        SHOW("acr", FLASH_ACR);
        SHOW("pwr_cr1", PWR_CR1);
    } else if (!strcmp(what, "uart")) {
        SystemCoreClock = (uint32_t)strtoul(argv[2], NULL, 0);
        stm32f7_uart_init((uint32_t)strtoul(argv[3], NULL, 0));
        SHOW("brr", USART3_BRR);
        SHOW("cr1", USART3_CR1);
        SHOW("dckcfgr2", RCC_DCKCFGR2);
        SHOW("moder", GPIOD_MODER);
        SHOW("afrh", GPIOD_AFRH);
        SHOW("iser1", NVIC_ISER(1));
        SHOW("ipr", NVIC_IPR(USART3_IRQn));
        SHOW("cr3", USART3_CR3);
        SHOW("ahb1enr", RCC_AHB1ENR);
        SHOW("dma_cr", DMA1_S1CR);
        SHOW("dma_ndtr", DMA1_S1NDTR);
        SHOW("dma_par", DMA1_S1PAR);
        SHOW("dma_m0ar", DMA1_S1M0AR);
        SHOW("dma_fcr", DMA1_S1FCR);
    } else if (!strcmp(what, "ring")) {
        /* ring SERVES LATENCY BURSTS N EXPECT: BURSTS times, N bytes arrive at
         * once and EXPECT of them are read back; then one marker byte, which
         * comes next only if the ring held exactly EXPECT of the last burst. */
        dma_serves = atoi(argv[2]);
        dma_latency = atoi(argv[3]);
        int bursts = atoi(argv[4]), n = atoi(argv[5]), expect = atoi(argv[6]), in_order = 1;
        SystemCoreClock = 216000000u;
        stm32f7_uart_init(115200u);
        /* As in the firmware; its feeds are also the register accesses at
         * which the model takes the RXNE interrupt while getc waits. */
        hal_watchdog_start(1000u);
        for (int b = 0; b < bursts; b++) {
            int first = rx_len;
            for (int i = 0; i < n; i++)
                rx_queue[rx_len++] = (uint8_t)((first + i) * 7 + 3);
            settle();
            for (int i = 0; i < expect; i++)
                in_order &= hal_uart_getc() == (uint8_t)((first + i) * 7 + 3);
        }
        rx_queue[rx_len++] = 0xA5;
        SHOW("in_order", in_order);
        SHOW("marker_next", hal_uart_getc() == 0xA5);
        SHOW("left_in_usart", rx_len - rx_pos);
        SHOW("cr1", USART3_CR1);
        SHOW("cr3", USART3_CR3);
        SHOW("iser1", NVIC_ISER(1));
        SHOW("dma_cr", DMA1_S1CR);
        SHOW("dma_used", dma_used);
    } else if (!strcmp(what, "watchdog")) {
        hal_watchdog_feed();           /* before start: must not touch the IWDG */
        SHOW("kr_before", IWDG_KR);
        hal_watchdog_start((uint32_t)strtoul(argv[2], NULL, 0));
        SHOW("kr", IWDG_KR);
        SHOW("pr", IWDG_PR);
        SHOW("rlr", IWDG_RLR);
        SHOW("dbg_fz", DBGMCU_APB1_FZ);
        IWDG_KR = 0;
        hal_watchdog_feed();
        SHOW("kr_fed", IWDG_KR);
    } else if (!strcmp(what, "idle")) {
        /* hal_uart_getc with nothing received: it must feed the watchdog while it waits. */
        SystemCoreClock = 216000000u;
        stm32f7_uart_init(115200u);
        hal_watchdog_start(1000u);
        byte_after_feeds = 5;
        SHOW("byte", hal_uart_getc());
        SHOW("feeds", feeds_seen);
    } else if (!strcmp(what, "reset")) {
        RCC_CSR = (uint32_t)strtoul(argv[2], NULL, 0);
        stm32f7_reset_cause_init();
        SHOW("cause", hal_reset_cause());
        SHOW("csr", RCC_CSR);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stm32f7_logic")
    (out / "fake_regs.h").write_text(FAKE_REGS_H)
    (out / "harness.c").write_text(HARNESS_C)
    exe = out / "harness"
    cmd = [
        "gcc",
        "-std=gnu11",
        "-O1",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fno-pie",
        "-no-pie",
        "-include",
        str(out / "fake_regs.h"),
        f"-I{firmware_root() / 'include'}",
        f"-I{PORT}",
        f"-I{firmware_root() / 'port' / 'armv7m'}",
        str(PORT / "clock.c"),
        str(PORT / "uart.c"),
        str(PORT / "watchdog.c"),
        str(out / "harness.c"),
        "-o",
        str(exe),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return exe


def run(exe: Path, *args: object) -> dict[str, int]:
    # The timeout only keeps a harness stuck in a wait loop from hanging the suite.
    out = subprocess.run(
        [str(exe), *map(str, args)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {k: int(v) for k, v in (line.split("=") for line in out.split())}


def bits(value: int, lo: int, width: int) -> int:
    return (value >> lo) & ((1 << width) - 1)


def test_216_mhz_from_the_stlink_clock(harness):
    r = run(harness, "clock", 1, 1)
    assert r["source"] == 1 and r["hz"] == 216_000_000
    pll = r["pllcfgr"]
    m, n, p, q = bits(pll, 0, 6), bits(pll, 6, 9), 2 * (bits(pll, 16, 2) + 1), bits(pll, 24, 4)
    assert bits(pll, 22, 1) == 1, "PLL source must be HSE"
    assert 8_000_000 // m == 2_000_000 and 8_000_000 // m * n // p == 216_000_000
    assert 8_000_000 // m * n // q == 48_000_000
    assert r["cr"] & (1 << 18) and r["cr"] & (1 << 16), "HSE must run in bypass mode"
    assert bits(r["cfgr"], 0, 2) == 2, "SYSCLK must be the PLL"
    assert bits(r["cfgr"], 4, 4) == 0  # AHB /1: 216 MHz
    assert bits(r["cfgr"], 10, 3) == 0b101  # APB1 /4: 54 MHz (max 54)
    assert bits(r["cfgr"], 13, 3) == 0b100  # APB2 /2: 108 MHz (max 108)
    assert bits(r["acr"], 0, 4) == 7, "216 MHz needs 7 flash wait states"
    assert bits(r["pwr_cr1"], 14, 2) == 3 and r["pwr_cr1"] & (3 << 16), "scale 1 + over-drive"


@pytest.mark.parametrize("hse, pll", [(0, 1), (1, 0)])
def test_falls_back_to_16_mhz_hsi(harness, hse, pll):
    r = run(harness, "clock", hse, pll)
    assert r["source"] == 2 and r["hz"] == 16_000_000
    assert bits(r["cfgr"], 0, 2) == 0, "SYSCLK must be HSI"
    assert not r["cr"] & ((1 << 24) | (1 << 16) | (1 << 18)), "PLL and HSE must be off"
    assert bits(r["acr"], 0, 4) == 0
    assert not r["pwr_cr1"] & (3 << 16), "over-drive must be off"


def uart_rate(harness, fck: int, baud: int) -> float:
    r = run(harness, "uart", fck, baud)
    assert bits(r["dckcfgr2"], 4, 2) == 1, "USART3 clock must be SYSCLK"
    brr = r["brr"]
    if r["cr1"] & (1 << 15):  # OVER8: USARTDIV = BRR[15:4] << 4 | BRR[2:0] << 1
        assert not brr & 0x8, "BRR[3] must stay clear in 8x mode"
        return 2 * fck / ((brr & ~0xF) | ((brr & 0x7) << 1))
    return fck / brr


@pytest.mark.parametrize("baud", [115200, 921600, 2_000_000])
def test_board_baud_rates_are_accurate_at_216_mhz(harness, baud):
    assert abs(uart_rate(harness, 216_000_000, baud) - baud) / baud < 0.002


@pytest.mark.parametrize(
    "fck, baud",
    [
        (216_000_000, 115200),
        (216_000_000, 921600),
        (216_000_000, 2_000_000),
        (16_000_000, 115200),
        (16_000_000, 921600),
        (16_000_000, 2_000_000),
        (16_000_000, 1_600_000),
    ],
)
def test_baud_rate_is_the_nearest_the_clock_allows(harness, fck, baud):
    """Every mode reaches exactly the rates fck / k; the code must pick the nearest."""
    k = round(fck / baud)
    assert uart_rate(harness, fck, baud) == pytest.approx(fck / k)


USART3_IRQ_BIT = 1 << (39 - 32)  # USART3 is IRQ 39: NVIC_ISER1 bit 7
RXNEIE, DMAR = 1 << 5, 1 << 6


def test_usart3_is_on_pd8_pd9_with_rx_by_dma(harness):
    """No interrupt per received byte: DMA1 stream 1 channel 4 (USART3_RX) fills the ring."""
    r = run(harness, "uart", 216_000_000, 115200)
    assert bits(r["moder"], 16, 2) == 2 and bits(r["moder"], 18, 2) == 2  # alternate function
    assert bits(r["afrh"], 0, 4) == 7 and bits(r["afrh"], 4, 4) == 7  # AF7 = USART3
    cr1 = r["cr1"]
    assert cr1 & 1 and cr1 & (1 << 2) and cr1 & (1 << 3)  # UE, RE, TE
    assert not cr1 & RXNEIE and r["iser1"] == 0, "no RX interrupt while the DMA serves"
    assert r["cr3"] & DMAR and not r["cr3"] & (1 << 13), "DMA on RX, not stopped by an error"
    assert r["ahb1enr"] & (1 << 21), "DMA1 clock"
    cr = r["dma_cr"]
    assert bits(cr, 25, 3) == 4 and cr & 1  # channel 4, enabled
    assert bits(cr, 6, 2) == 0 and cr & (1 << 8) and cr & (1 << 10)  # P->M, CIRC, MINC
    assert bits(cr, 11, 2) == 0 and bits(cr, 13, 2) == 0 and not cr & (1 << 9)  # bytes, PAR fixed
    assert not cr & 0b11110, "no DMA interrupt"
    assert not r["dma_fcr"] & (1 << 2), "direct mode: each byte reaches the ring as it arrives"
    assert r["dma_par"] == 0x40004824  # USART3_RDR
    assert r["dma_ndtr"] == 8192 and r["dma_m0ar"] and r["dma_m0ar"] % 4 == 0
    assert r["ipr"] == 0x40


@pytest.mark.parametrize("latency", [0, 200])
def test_rx_ring_keeps_a_burst_in_order(harness, latency):
    r = run(harness, "ring", 1, latency, 1, 1500, 1500)
    assert (r["in_order"], r["marker_next"], r["left_in_usart"]) == (1, 1, 0)
    # a DMA that takes its time is still a DMA: no fall-back to the interrupt
    assert r["cr3"] & DMAR and r["dma_cr"] & 1 and not r["cr1"] & RXNEIE and r["iser1"] == 0


def test_rx_ring_wraps_around_in_order(harness):
    """12 x 1500 bytes: the circular DMA passes the end of the 8 KiB ring twice."""
    r = run(harness, "ring", 1, 0, 12, 1500, 1500)
    assert (r["in_order"], r["marker_next"], r["left_in_usart"]) == (1, 1, 0)
    assert r["cr3"] & DMAR and r["dma_cr"] & 1 and not r["cr1"] & RXNEIE


def test_without_usart_dma_rx_falls_back_to_the_interrupt(harness):
    """An emulator whose DMA never serves USART3 (Renode's STM32F746) still gets every byte."""
    r = run(harness, "ring", 0, 0, 3, 1500, 1500)
    assert (r["in_order"], r["marker_next"], r["left_in_usart"]) == (1, 1, 0)
    assert r["dma_used"] and not r["cr3"] & DMAR and not r["dma_cr"] & 1, "DMA tried, then off"
    assert r["cr1"] & RXNEIE and r["iser1"] == USART3_IRQ_BIT, "RXNE interrupt on"


def test_interrupt_rx_ring_keeps_the_oldest_bytes_when_full(harness):
    """Without DMA a burst longer than the ring loses its newest bytes (the frame's CRC fails, the host resends)."""
    r = run(harness, "ring", 0, 0, 1, 10000, 8192)
    assert (r["in_order"], r["marker_next"], r["left_in_usart"]) == (1, 1, 0)


LSI_MAX_HZ = 47_000  # the fastest LSI the datasheet allows


@pytest.mark.parametrize("ms", [1, 100, 5000, 20_000])
def test_watchdog_timeout_is_at_least_the_request_with_the_finest_divider(harness, ms):
    r = run(harness, "watchdog", ms)
    assert r["kr_before"] == 0, "feeding before the start must not touch the IWDG"
    assert r["kr"] == 0xAAAA and r["kr_fed"] == 0xAAAA  # started, then reloaded
    assert r["dbg_fz"] & (1 << 12), "the IWDG must stop while a debugger halts the core"
    pr, rlr = r["pr"], r["rlr"]
    assert 0 <= pr <= 6 and 0 <= rlr <= 0xFFF
    timeout = (rlr + 1) * (4 << pr) / LSI_MAX_HZ
    assert timeout >= ms / 1000
    if pr > 0:  # the next finer divider could not reach it
        assert 4096 * (4 << (pr - 1)) / LSI_MAX_HZ < ms / 1000


def test_watchdog_longer_than_the_iwdg_can_count_gets_its_maximum(harness):
    r = run(harness, "watchdog", 60_000)
    assert (r["pr"], r["rlr"]) == (6, 0xFFF)


def test_waiting_for_the_host_feeds_the_watchdog(harness):
    r = run(harness, "idle")
    assert r["byte"] == 0x5A and r["feeds"] >= 5


@pytest.mark.parametrize(
    "csr, cause",
    [
        ((1 << 29) | (1 << 26), 4),  # IWDG reset (NRST is driven too): watchdog
        ((1 << 30) | (1 << 26), 4),  # window watchdog
        ((1 << 28) | (1 << 26), 3),  # SYSRESETREQ: software
        ((1 << 27) | (1 << 25) | (1 << 26), 1),  # power on
        (1 << 26, 2),  # the reset button or a debugger
        (0, 0),
    ],
)
def test_reset_cause_comes_from_rcc_csr_and_the_flags_are_cleared(harness, csr, cause):
    r = run(harness, "reset", csr)
    assert r["cause"] == cause
    assert r["csr"] & (1 << 24), "RMVF must be written so the next boot sees fresh flags"
