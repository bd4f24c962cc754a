#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the seed inputs of tests/fuzz/corpus/vfio_passthrough/ into the
directory given, in the format fuzz_vfio_passthrough.c reads (see its header
comment): a passed-through function as VFIO describes it (an NVMe-like one
and some odd or broken ones), then what a guest's driver does to it.

    tests/fuzz/vfio_passthrough_seeds.py tests/fuzz/corpus/vfio_passthrough
"""
import os
import struct
import sys

SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
WIN = 0xC0000000           # the PCI window's start: the first BAR goes there
MSIX, PCIE, PM, MSI = 0x11, 0x10, 0x01, 0x05
ENABLE, FMASK = 0x8000, 0x4000

NVME_CAPS = ((0x40, PM, 0x50), (0x50, MSIX, 0x60), (0x60, MSI, 0x80), (0x80, PCIE, 0))


def bar(log2=0, io=False, mem64=False, prefetch=False, mmap=False, sparse=0,
        odd=False, mmap_failed=False):
    a = log2 | (0x40 if io else 0) | (0x80 if mem64 else 0)
    b = (1 if prefetch else 0) | (2 if mmap else 0) | (4 if sparse else 0)
    b |= min(sparse, 7) << 3 | (0x40 if odd else 0) | (0x80 if mmap_failed else 0)
    return bytes([a, b])


NVME_BARS = [bar(14, mem64=True, mmap=True)] + [bar()] * 5


def desc(caplist=True, vfio_intx=False, intx_lines=False, fail=0, htype=0x80, pin=1,
         capptr=0x40, caps=NVME_CAPS, msix_ctrl=64, table=0x2000, pba=0x3000,
         msix_irqs=65, pcie_flags=2, devcap=0x10008021, devctl=0x2810, fail_route=0,
         bars=NVME_BARS, areas=(), pokes=()):
    caps = list(caps) + [(0, 0, 0)] * (4 - len(caps))
    flags = (1 if caplist else 0) | (2 if vfio_intx else 0) | (4 if intx_lines else 0)
    d = bytes([flags | fail << 3, htype, pin, capptr])
    for c in caps:
        d += bytes(c)
    d += struct.pack('<HII', msix_ctrl, table, pba)
    d += struct.pack('<H', msix_irqs)
    d += struct.pack('<BIH', pcie_flags, devcap, devctl)
    d += bytes([fail_route])
    assert len(bars) == 6
    d += b''.join(bars)
    assert len(d) == 48
    for o, s in areas:
        d += bytes([o, s])
    d += bytes([len(pokes)])
    for o, v in pokes:
        d += bytes([o, v])
    return d


def val(v, size):
    return (v & ((1 << (8 * size)) - 1)).to_bytes(size, 'little')


def cfg_read(reg, size=4):
    return bytes([0 | SIZE[size] << 3, reg])


def cfg_write(reg, v, size=4):
    return bytes([1 | SIZE[size] << 3, reg]) + val(v, size)


def bar_read(target, off, size=4):
    return bytes([2 | SIZE[size] << 3, target]) + struct.pack('<I', off)


def bar_write(target, off, v, size=4):
    return bytes([3 | SIZE[size] << 3, target]) + struct.pack('<I', off) + val(v, size)


def dword(reg, v):
    return bytes([4, reg]) + struct.pack('<I', v)


def arm(mask):
    return bytes([5, mask])


def check():
    return bytes([5 | 1 << 3])


def dump():
    return bytes([5 | 2 << 3])


def msix_entry(vec, off, v, size=4):
    return bytes([6 | SIZE[size] << 3]) + struct.pack('<HB', vec, off) + val(v, size)


def cap_write(cap_id, off, v, size=2):
    return bytes([7 | SIZE[size] << 3, cap_id, off]) + val(v, size)


def size_bars(placed):
    """Linux's BAR sizing, decoding off around it: each BAR all ones, read, restored."""
    x = cfg_read(0x04, 2) + cfg_write(0x04, 0, 2)
    for b in range(6):
        reg = 0x10 + 4 * b
        x += cfg_read(reg) + dword(reg, 0xFFFFFFFF) + cfg_read(reg) + dword(reg, placed.get(b, 0))
    return x + cfg_write(0x04, 0x0002, 2)


def enumerate_dev():
    x = cfg_read(0x00) + cfg_read(0x08) + cfg_read(0x0E, 1) + cfg_read(0x2C)
    x += cfg_read(0x06, 2) + cfg_read(0x34, 1) + cfg_read(0x3C, 2)
    for reg in (0x40, 0x41, 0x42, 0x44, 0x48, 0x4C, 0x4D, 0x4E, 0x50, 0x54, 0x58):
        x += cfg_read(reg, 1)
    return x + cfg_read(0x30) + cfg_write(0x30, 0xFFFFFFFE) + cfg_read(0x30)


def program_vectors(n, vecs=None):
    x = cap_write(MSIX, 2, ENABLE | FMASK)
    for v in (vecs if vecs is not None else range(n)):
        x += msix_entry(v, 0, 0xFEE00000 | (v % 4) << 12) + msix_entry(v, 4, 0)
        x += msix_entry(v, 8, 0x4020 + v) + msix_entry(v, 12, 0)
    return x + cap_write(MSIX, 2, ENABLE)


def seeds():
    s = {}
    nvme = desc()
    # Linux's nvme driver: enumerate, size BAR 0, enable, MSI-X with three
    # vectors, registers in the mapped pages and in the trapped table's page.
    x = enumerate_dev() + size_bars({0: WIN}) + cfg_write(0x04, 0x0006, 2)
    x += program_vectors(3) + bar_read(0, 0x0) + bar_read(0, 0x1C) + bar_write(0, 0x14, 0x460001)
    x += bar_write(0, 0x1000, 1) + bar_write(0, 0x28, 0x123456789ABCDEF0, 8)
    x += bar_read(0, 0x2000 + 65 * 16) + bar_read(0, 0x3000, 8) + bar_read(0, 0x2000 + 16 * 2, 8)
    x += cap_write(PCIE, 8, 0x5030) + cap_write(PCIE, 8, 0xA810) + cap_write(PCIE, 4, 0xFFFFFFFF, 4)
    x += cap_write(PCIE, 10, 0x000F) + check() + dump()
    s['nvme-boot'] = nvme + x
    # Power-off: vectors masked one by one, MSI-X off, bus master and decoding off.
    y = x + msix_entry(0, 12, 1) + msix_entry(1, 12, 1) + cap_write(MSIX, 2, ENABLE | FMASK)
    y += cap_write(MSIX, 2, 0) + cfg_write(0x04, 0x0002, 2) + cfg_write(0x04, 0, 2) + check()
    s['nvme-shutdown'] = nvme + y
    # INTx: the pin wired, the driver toggling INTx-disable, then MSI-X taking
    # over and giving it back, with the function mask in between.
    intx = desc(vfio_intx=True, intx_lines=True)
    x = enumerate_dev() + cfg_read(0x3C, 1) + cfg_write(0x3C, 11, 1)
    x += cfg_write(0x04, 0x0406, 2) + cfg_write(0x04, 0x0006, 2) + cfg_write(0x05, 0x04, 1)
    x += cfg_write(0x04, 0x0006, 2) + program_vectors(2) + cap_write(MSIX, 2, ENABLE | FMASK)
    x += cap_write(MSIX, 2, ENABLE) + cap_write(MSIX, 3, 0, 1) + cfg_write(0x04, 0x0406, 2)
    x += cap_write(MSIX, 2, ENABLE) + check()
    s['intx-msix-handover'] = intx + x
    # INTx only: no MSI-X in the chain.
    s['intx-only'] = desc(vfio_intx=True, intx_lines=True, pin=2,
                          caps=((0x40, PM, 0x80), (0x80, PCIE, 0))) + \
        cfg_write(0x04, 0x0006, 2) + cfg_write(0x04, 0x0406, 2) + check()
    # BAR 0 moved while decoding, moved while not, sized while decoding.
    x = dword(0x10, WIN + 0x100000) + bar_read(0, 0x10) + bar_read(7, WIN + 0x10)
    x += cfg_write(0x04, 0, 2) + dword(0x10, WIN + 0x200000) + bar_read(7, WIN + 0x200010)
    x += cfg_write(0x04, 0x0002, 2) + bar_read(0, 0x10) + dword(0x10, 0xFFFFFFFF)
    x += cfg_read(0x10) + bar_read(6, 0x10) + dword(0x10, WIN) + cfg_write(0x12, 0xC010, 2)
    x += dword(0x10, 0xFEBFC000) + dword(0x10, 0xFEC00000) + dword(0x10, WIN) + check()
    s['bar-move'] = nvme + x
    # A 64K BAR with the table at 16K and the PBA at 34K: the mapped areas
    # (sparse, around the table) cut into three slots; accesses everywhere.
    split = desc(table=0x4000, pba=0x8800,
                 bars=[bar(16, mem64=True, mmap=True, sparse=2)] + [bar()] * 5,
                 areas=((0x00, 0x40), (0x50, 0x00)))
    x = size_bars({0: WIN}) + cfg_write(0x04, 0x0006, 2) + program_vectors(65, (0, 31, 64))
    for off in (0x0, 0x3FFC, 0x4000 + 65 * 16, 0x4FF8, 0x5000, 0x8000, 0x8800, 0x8808,
                0x8810, 0x9000, 0xFFF8):
        x += bar_read(0, off, 8) + bar_write(0, off, 0x55AA, 2)
    x += bar_read(0, 0x4000 + 16 * 64 + 12, 4) + bar_read(0, 0x4000 + 3, 1)
    x += bar_write(0, 0x4000 + 8, 0x4041, 4) + bar_read(0, 0x4000 + 8, 4)
    x += bar_read(0, 0x10000, 4) + bar_read(0, 0xFFFF, 2) + check()
    s['sparse-split'] = split + x
    # No mmap: every access goes to the device (VFIO's read/write), the
    # table's aside; and one whose mmap failed.
    x = cfg_write(0x04, 0x0006, 2) + bar_write(0, 0x14, 0x00460001) + bar_read(0, 0x1C)
    x += bar_write(0, 0x28, 0x123456789ABCDEF0, 8) + bar_read(0, 0x1003, 1)
    x += bar_read(0, 0x3FFF, 1) + bar_read(0, 0x3FFE, 2) + bar_read(0, 0x3FFC, 8)
    x += msix_entry(1, 8, 0x4041) + bar_read(0, 0x2018, 4) + bar_read(0, 0x3000, 8)
    x += bar_read(0, 0x2000 + 65 * 16, 4)
    s['no-mmap'] = desc(bars=[bar(14, mem64=True)] + [bar()] * 5) + x
    s['mmap-failed'] = desc(bars=[bar(14, mem64=True, mmap=True, mmap_failed=True)] +
                            [bar()] * 5) + x
    # Several BARs: I/O (hidden), a prefetchable 4K, a 64-bit 1M holding the
    # table, the PBA alone in an 8K BAR, a tiny 16-byte one.
    multi = desc(table=0x80000 | 2, pba=0x0 | 4, msix_ctrl=7, msix_irqs=8,
                 bars=[bar(8, io=True), bar(12, prefetch=True, mmap=True),
                       bar(20, mem64=True, mmap=True), bar(), bar(13, mmap=True), bar(4)])
    placed = {1: WIN, 2: WIN + 0x100000, 4: WIN + 0x200000, 5: WIN + 0x202000}
    x = size_bars(placed) + cfg_write(0x04, 0x0007, 2) + program_vectors(8)
    x += bar_read(1, 0x10) + bar_read(2, 0x80000, 8) + bar_read(4, 0x0, 8) + bar_read(5, 0xC)
    x += bar_write(5, 0xE, 0x1234, 2) + dword(0x18, WIN + 0x300000) + dword(0x14, WIN + 0x100000)
    x += bar_read(2, 0x1000) + check()
    s['multi-bar'] = multi + x
    # Failures: KVM refusing a slot as BAR 0 moves, VFIO refusing the vectors,
    # INTx off failing, the line refused at attach; the guest goes on.
    x = arm(1) + dword(0x10, WIN + 0x100000) + bar_read(0, 0) + dword(0x10, WIN)
    x += arm(2) + program_vectors(1) + cap_write(MSIX, 2, 0) + cap_write(MSIX, 2, ENABLE)
    x += arm(4) + cap_write(MSIX, 2, 0) + arm(16) + cfg_write(0x04, 0x0006, 2) + bar_read(0, 8)
    s['failures'] = desc(vfio_intx=True, intx_lines=True) + x
    s['line-refused'] = desc(vfio_intx=True, intx_lines=True, fail=8) + check()
    # Two BARs put over each other by the guest: KVM refuses the overlap.
    two = desc(table=0x0000 | 2, pba=0x800 | 2, msix_ctrl=0,
               bars=[bar(16, mmap=True), bar(), bar(14, mmap=True)] + [bar()] * 3)
    s['bars-overlap'] = two + dword(0x18, WIN + 0x8000) + dword(0x18, WIN + 0x20000) + check()
    # Refused: a loop in the chain, a bridge, a 4 GiB BAR, a BAR of no power
    # of two, the table in a BAR that is not there, neither MSI-X nor INTx,
    # the VMM out of routes.
    s['refuse-cap-loop'] = desc(caps=((0x40, PM, 0x50), (0x50, MSIX, 0x40)))
    s['refuse-cap-header'] = desc(caps=((0x40, PM, 0x50), (0x50, MSIX, 0x10)))
    s['refuse-bridge'] = desc(htype=0x01)
    s['refuse-bar-4g'] = desc(bars=[bar(32, mem64=True, mmap=True)] + [bar()] * 5)
    s['refuse-bar-odd'] = desc(bars=[bar(14, mem64=True, mmap=True, odd=True)] + [bar()] * 5)
    s['refuse-msix-bar'] = desc(table=0x2000 | 3)
    s['refuse-no-irq'] = desc(caplist=False)
    s['refuse-routes'] = desc(fail_route=10)
    # Found by the fuzzer: an MSI-X capability at 0xF8, whose PBA register
    # lies past config space (refused now), and accesses straddling into the
    # table from the registers before it (the table's now, so dropped).
    # Found by the fuzzer: KVM refusing the second slot of a BAR the guest
    # moved over another left the first mapped, and after destroy too.
    leak = desc(table=0x1000, pba=0x1800,
                bars=[bar(14, mmap=True), bar(), bar(12, mmap=True)] + [bar()] * 3)
    s['bars-overlap-rollback'] = leak + dword(0x18, WIN + 0x6000) + dword(0x10, WIN + 0x4000) + \
        check() + bar_read(0, 0x10)
    s['refuse-msix-at-end'] = desc(caps=((0x40, PM, 0xF8), (0xF8, MSIX, 0))) + check()
    s['msix-table-straddle'] = nvme + bar_read(0, 0x1FFC, 8) + \
        bar_write(0, 0x1FFC, 0xFEE00000FFFFFFFF, 8) + bar_write(0, 0x1FFE, 0xFFFFFFFF, 4) + \
        bar_read(0, 0x1FFF, 2) + bar_read(0, 0x2FFC, 8) + bar_read(0, 0x2FFE, 4) + check()
    # Garbage pokes into the real config space after the description.
    s['pokes'] = desc(pokes=((0x0E, 0x80), (0x3D, 9), (0x52, 0xFF), (0x53, 0x07), (0x89, 0x12))) + \
        check() + dump()
    return s


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
