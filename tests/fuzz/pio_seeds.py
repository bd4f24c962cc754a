#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the seed access sequences of tests/fuzz/corpus/pio/ into the
directory given, in the format fuzz_pio.c reads (see its header comment):
what a Linux guest does to each device at boot, reboot and power-off.

    tests/fuzz/pio_seeds.py tests/fuzz/corpus/pio
"""
import struct
import sys

COM1, KBD, KBDC, RTC, PCI, ACPI, RAW, HOST = range(8)


def op(target, off, size=1, write=False, val=0):
    """One access to port base(target) + off."""
    b = bytes([target | {1: 0, 2: 1, 4: 2}[size] << 3 | (0x20 if write else 0), off])
    return b + (val.to_bytes(size, 'little') if write else b'')


def wr(target, off, val, size=1):
    return op(target, off, size, True, val)


def host(kind, arg=b''):
    """0 host input to the UART, 1 its free space, 2 move the clock, 3 drain its fd."""
    return bytes([HOST | kind << 3]) + arg


def raw(port, size=1, write=False, val=0):
    b = bytes([RAW | {1: 0, 2: 1, 4: 2}[size] << 3 | (0x20 if write else 0)])
    b += struct.pack('<H', port)
    return b + (val.to_bytes(size, 'little') if write else b'')


def cfg_addr(dev, reg, fn=0):
    return 0x80000000 | dev << 11 | fn << 8 | reg


def seeds():
    s = {}
    # Linux's 8250 probe and set-up, a line of output, then input echoed back.
    x = wr(COM1, 7, 0x55) + op(COM1, 7) + wr(COM1, 3, 0x80) + wr(COM1, 0, 1)
    x += wr(COM1, 1, 0) + wr(COM1, 3, 0x03) + wr(COM1, 2, 0xC7)
    x += wr(COM1, 4, 0x0B) + wr(COM1, 1, 0x0F) + op(COM1, 2) + op(COM1, 5) + op(COM1, 6)
    for c in b'Linux\r\n':
        x += wr(COM1, 0, c) + op(COM1, 5)
    x += host(0, bytes([5]) + b'root\n') + op(COM1, 2) + op(COM1, 5)
    x += op(COM1, 0) + op(COM1, 0) + host(1) + op(COM1, 0) + host(3)
    s['uart-init-echo'] = x
    # Loopback, then the FIFO off while input arrives.
    s['uart-loopback'] = (wr(COM1, 4, 0x10) + wr(COM1, 0, 0x41) + op(COM1, 5) +
                          op(COM1, 0) + op(COM1, 6) + wr(COM1, 2, 0) +
                          host(0, bytes([3]) + b'abc') + op(COM1, 0) + op(COM1, 0))
    # The RTC: every time register, then set the clock in binary 24-hour mode.
    x = b''
    for r in (0, 2, 4, 6, 7, 8, 9, 0x32, 0x0A, 0x0B, 0x0C, 0x0D):
        x += wr(RTC, 0, r) + op(RTC, 1)
    x += wr(RTC, 0, 0x0B) + wr(RTC, 1, 0x86)
    for r, v in ((0, 5), (2, 30), (4, 23), (7, 31), (8, 12), (9, 99)):
        x += wr(RTC, 0, r) + wr(RTC, 1, v)
    x += wr(RTC, 0, 0x0B) + wr(RTC, 1, 0x06) + host(2, bytes([100]))
    x += wr(RTC, 0, 0) + op(RTC, 1) + wr(RTC, 0, 0x8C) + op(RTC, 1)
    s['rtc-read-set'] = x
    # PCI: the mechanism #1 probe, a scan of slots 0-2, sizing and placing
    # the BARs of slot 1, enabling it, an AMD extended register.
    x = wr(PCI, 3, 0) + wr(PCI, 0, 0x80000000, 4) + op(PCI, 0, 4)
    for dev in range(3):
        x += wr(PCI, 0, cfg_addr(dev, 0), 4) + op(PCI, 4, 4)
        x += wr(PCI, 0, cfg_addr(dev, 8), 4) + op(PCI, 4, 4)
        x += wr(PCI, 0, cfg_addr(dev, 0x0C), 4) + op(PCI, 6, 1)
    for bar, addr in ((0x10, 0xC000), (0x14, 0xFEBF0000)):
        x += wr(PCI, 0, cfg_addr(1, bar), 4) + op(PCI, 4, 4)
        x += wr(PCI, 4, 0xFFFFFFFF, 4) + op(PCI, 4, 4) + wr(PCI, 4, addr, 4)
    x += wr(PCI, 0, cfg_addr(1, 4), 4) + wr(PCI, 4, 0x0007, 2) + op(PCI, 6, 2)
    x += wr(PCI, 6, 0xFFFF, 2) + wr(PCI, 0, cfg_addr(0, 0x3C), 4) + wr(PCI, 5, 11)
    x += op(PCI, 4, 4) + wr(PCI, 0, cfg_addr(0, 0) | 0x0F000000 | 0x100, 4) + op(PCI, 4, 4)
    s['pci-scan-bars'] = x
    s['pci-reset-cf9'] = wr(PCI, 1, 0x02) + op(PCI, 1) + wr(PCI, 1, 0x06)
    # The i8042: status, self test, command byte, then reboot=k.
    s['i8042-reboot'] = (op(KBDC, 0) + wr(KBDC, 0, 0xAA) + op(KBD, 0) +
                         wr(KBDC, 0, 0x20) + op(KBD, 0) + wr(KBDC, 0, 0x60) +
                         wr(KBD, 0, 0x45) + op(KBDC, 0) + wr(KBDC, 0, 0xFE))
    # ACPI: clear the wake status, power off (S5), reset.
    s['acpi-poweroff'] = op(ACPI, 1) + wr(ACPI, 1, 0x80) + op(ACPI, 0) + wr(ACPI, 0, 0x20 | 5 << 2)
    s['acpi-reset'] = op(ACPI, 2) + wr(ACPI, 2, 1) + wr(ACPI, 0, 0x1414, 2)
    # Any port: the POST port, unclaimed ports, accesses across a range's end.
    s['raw-ports'] = (raw(0x80, 1, True, 1) + raw(0x3FE, 4) + raw(0xFFFF, 2) +
                      raw(0x5FF, 4, True, 0x3400) + bytes([COM1 | 0xC0, 0x07]))
    return s


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: pio_seeds.py DIR')
    for name, data in seeds().items():
        with open(f'{sys.argv[1]}/{name}', 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
