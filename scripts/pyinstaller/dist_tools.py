"""Checks and finishing touches for the PyInstaller folder (dist/docclean), used by scripts/build_binaries.sh.

    python3 scripts/pyinstaller/dist_tools.py strip DIR          # strip symbols from the ELF files that have them
    python3 scripts/pyinstaller/dist_tools.py glibc DIR [2.28]   # the highest GLIBC_x.y needed, and by which files
    python3 scripts/pyinstaller/dist_tools.py sizes DIR          # the biggest parts of the folder

Standard library and binutils (strip, objdump) only.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Iterator, Optional

ELF_MAGIC = b"\x7fELF"
SHT_SYMTAB = 2
PT_LOAD = 1


def elf_files(folder: Path) -> Iterator[Path]:
    """Regular files (not symlinks) in ``folder`` that are ELF objects."""
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            if path.is_symlink() or not path.is_file():
                continue
            with open(path, "rb") as f:
                if f.read(4) == ELF_MAGIC:
                    yield path


def _elf(path: Path) -> Optional[tuple[bytes, str, dict]]:
    """(the file's bytes, its byte order, the header fields we need) for a 64-bit ELF file, else None."""
    data = path.read_bytes()
    if data[:4] != ELF_MAGIC or data[4] != 2:  # ELFCLASS64 only (every file here on x86-64 and arm64)
        return None
    end = "<" if data[5] == 1 else ">"
    phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 0x36)
    return data, end, dict(phoff=phoff, shoff=shoff, phentsize=phentsize, phnum=phnum, shentsize=shentsize,
                           shnum=shnum)


def has_symbol_table(path: Path) -> bool:
    """Whether the file still has a .symtab (what `strip` removes)."""
    elf = _elf(path)
    if elf is None:
        return False
    data, end, h = elf
    section_types = (struct.unpack_from(end + "I", data, h["shoff"] + i * h["shentsize"] + 4)[0]
                     for i in range(h["shnum"]))
    return SHT_SYMTAB in section_types


def loadable(path: Path) -> bool:
    """Whether every PT_LOAD segment's file offset and address agree modulo its alignment.

    `strip` breaks some libraries that patchelf rewrote (auditwheel's, in ``*.libs/``):
    the loader then refuses them ("ELF load command address/offset not page-aligned").
    """
    elf = _elf(path)
    if elf is None:
        return True
    data, end, h = elf
    segments = (struct.unpack_from(end + "IIQQQQQQ", data, h["phoff"] + i * h["phentsize"]) for i in range(h["phnum"]))
    return not any(p_type == PT_LOAD and p_align > 1 and (p_offset - p_vaddr) % p_align
                   for p_type, _, p_offset, p_vaddr, _, _, _, p_align in segments)


def strip_folder(folder: Path) -> None:
    """Strip symbol tables (not debug-free code) from the ELF files that have them.

    Libraries repaired by auditwheel (``*.libs/``, rewritten by patchelf) are left alone,
    and a stripped file whose segments no longer line up is put back as it was.
    """
    strip = shutil.which("strip")
    if strip is None:
        sys.exit("strip not found (install binutils)")
    before = after = 0
    kept = []
    for path in sorted(elf_files(folder)):
        if path.parent.name.endswith(".libs") or not has_symbol_table(path):
            continue
        size = path.stat().st_size
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".strip-", delete=False) as tmp:
            stripped = Path(tmp.name)
        try:
            subprocess.run([strip, "--strip-unneeded", "-o", str(stripped), str(path)], check=True,
                           stderr=subprocess.PIPE)
            if not loadable(stripped):
                kept.append(path)
                continue
            shutil.copymode(path, stripped)
            os.replace(stripped, path)
            before, after = before + size, after + path.stat().st_size
        except subprocess.CalledProcessError:
            kept.append(path)
        finally:
            stripped.unlink(missing_ok=True)
    print(f"stripped: {before / 1e6:.0f} MB -> {after / 1e6:.0f} MB"
          + (f"; left as they were (strip would break them): {', '.join(p.name for p in kept)}" if kept else ""))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def needed_versions(path: Path) -> dict[str, str]:
    """The highest GLIBC_, GLIBCXX_ and CXXABI_ versions ``path`` imports (objdump -T)."""
    out = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
    found: dict[str, str] = {}
    for kind, version in re.findall(r"\((GLIBC|GLIBCXX|CXXABI)_([0-9][0-9.]*)\)", out):
        if kind not in found or _version_key(version) > _version_key(found[kind]):
            found[kind] = version
    return found


def glibc_report(folder: Path, target: str = "2.28") -> str:
    """Print which files need more than glibc ``target``; returns the floor (the highest needed)."""
    if shutil.which("objdump") is None:
        sys.exit("objdump not found (install binutils)")
    by_version: dict[str, list[str]] = defaultdict(list)
    cxx: dict[str, tuple[str, str]] = {}
    for path in elf_files(folder):
        versions = needed_versions(path)
        rel = str(path.relative_to(folder))
        if "GLIBC" in versions:
            by_version[versions["GLIBC"]].append(rel)
        for kind in ("GLIBCXX", "CXXABI"):
            if kind in versions and (kind not in cxx or _version_key(versions[kind]) > _version_key(cxx[kind][0])):
                cxx[kind] = (versions[kind], rel)
    floor = max(by_version, key=_version_key)
    print(f"glibc floor: {floor} (the highest GLIBC_x.y any file in {folder} needs)")
    for version in sorted(by_version, key=_version_key, reverse=True):
        if _version_key(version) <= _version_key(target):
            break
        names = sorted(by_version[version])
        shown = ", ".join(names[:8]) + (f", and {len(names) - 8} more" if len(names) > 8 else "")
        print(f"  GLIBC_{version}: {shown}")
    within = sum(len(v) for k, v in by_version.items() if _version_key(k) <= _version_key(target))
    print(f"  {within} other files need glibc {target} or older")
    for kind, (version, rel) in sorted(cxx.items()):
        print(f"  system libstdc++ must provide {kind}_{version} (highest, needed by {rel})")
    return floor


def sizes(folder: Path, top: int = 12) -> None:
    """The biggest entries of ``folder/_internal`` and the folder's total, in MB."""
    def size(path: Path) -> int:
        if path.is_symlink():
            return 0
        if path.is_file():
            return path.stat().st_size
        return sum(size(child) for child in path.iterdir())

    internal = folder / "_internal"
    parts = sorted(((size(p), p.name) for p in internal.iterdir()), reverse=True)
    for bytes_, name in parts[:top]:
        print(f"  {bytes_ / 1e6:8.1f} MB  _internal/{name}")
    print(f"  {size(folder) / 1e6:8.1f} MB  total")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("strip", "glibc", "sizes"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[1])
    if argv[0] == "strip":
        strip_folder(folder)
    elif argv[0] == "glibc":
        glibc_report(folder, argv[2] if len(argv) > 2 else "2.28")
    else:
        sizes(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
