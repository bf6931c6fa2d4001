#!/usr/bin/env python3
"""The functions a traced run of duet-app used (scripts/hot-code.sh).

    functions.py MAPS BINARY OUT

MAPS is /proc/PID/maps of a run under touch.so, BINARY the program it ran (built with every
function on a page of its own, so a page used is a function used), OUT the list to write: one
symbol name a line, in the order the functions had in BINARY. Prints how much was used.
"""
import bisect
import os
import subprocess
import sys

PAGE = 4096


def load_segments(binary):
    """(file offset, address, size) of each loadable segment."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    segments = []
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            segments.append((int(fields[1], 16), int(fields[2], 16), int(fields[4], 16)))
    return segments


def used_code(maps, binary, segments):
    """Address ranges of the binary's code pages that were used (given back their r-x)."""
    ranges = []
    with open(maps) as lines:
        for line in lines:
            fields = line.split()
            if len(fields) < 6 or fields[5] != binary or fields[1] != "r-xp":
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            offset = int(fields[2], 16)
            for file_offset, address, size in segments:
                if file_offset <= offset < file_offset + size:
                    first = address + offset - file_offset
                    ranges.append((first, first + end - start))
    return sorted(ranges)


def functions(binary):
    """(address, size, name) of the binary's functions, by address."""
    out = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTwW":
            found.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
    return sorted(found)


def main():
    maps, binary, out = sys.argv[1:4]
    binary = os.path.realpath(binary)  # as /proc/PID/maps names it
    used = used_code(maps, binary, load_segments(binary))
    if not used:
        sys.exit(f"no used code of {binary} in {maps}: was the run traced?")
    starts = [start for start, _ in used]
    names, seen, size, total = [], set(), 0, 0
    for address, length, name in functions(binary):
        total += length
        i = bisect.bisect_right(starts, address + max(length, 1) - 1) - 1
        if i >= 0 and used[i][1] > address and name not in seen:
            seen.add(name)
            names.append(name)
            size += length
    with open(out, "w") as f:
        f.writelines(name + "\n" for name in names)
    pages = sum(end - start for start, end in used) // PAGE
    print(f"{len(names)} functions used, {size / 2**20:.2f} MB of the {total / 2**20:.2f} MB of functions"
          f" ({pages} pages touched)")


if __name__ == "__main__":
    main()
