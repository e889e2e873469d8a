#!/usr/bin/env python3
"""Copy the front-end files the app serves from node_modules/ into static/vendor/.

`npm ci --ignore-scripts` installs the packages pinned in package-lock.json; this script then copies an
explicit list of their distribution files (nothing else) to static/vendor/<package>/..., where Flask
serves them as ordinary static files. static/vendor/ is not committed: `make setup` recreates it.

    python3 scripts/sync_vendor.py            # copy (stale files under static/vendor/ are removed)
    python3 scripts/sync_vendor.py --check    # exit 1 when a file is missing or differs
"""
from __future__ import annotations

import filecmp
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# package -> [(file inside the package, path under static/vendor/<package>/)]
FILES: dict[str, list[tuple[str, str]]] = {
    "bootstrap": [
        ("dist/css/bootstrap.min.css", "css/bootstrap.min.css"),
        ("dist/js/bootstrap.bundle.min.js", "js/bootstrap.bundle.min.js"),
        ("LICENSE", "LICENSE"),
    ],
    "bootstrap-icons": [
        ("font/bootstrap-icons.min.css", "font/bootstrap-icons.min.css"),
        ("font/fonts/bootstrap-icons.woff2", "font/fonts/bootstrap-icons.woff2"),
        ("font/fonts/bootstrap-icons.woff", "font/fonts/bootstrap-icons.woff"),
        ("LICENSE", "LICENSE"),
    ],
    "echarts": [
        ("dist/echarts.min.js", "echarts.min.js"),
        ("LICENSE", "LICENSE"),
    ],
    # QR decoding for the camera on the scan pages (static/scanner.js): pure JavaScript, no WebAssembly, so it
    # runs under the strict policy; the service worker (static/sw.js) keeps it for offline use.
    # Drag and drop of the booth-sales board's cards (static/pipeline.js); the board also works without it.
    "sortablejs": [
        ("Sortable.min.js", "Sortable.min.js"),
        ("LICENSE", "LICENSE"),
    ],
    "jsqr": [
        ("dist/jsQR.js", "jsQR.js"),
        ("LICENSE", "LICENSE"),
    ],
}


def _installed_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        raise SystemExit(f"{manifest.relative_to(ROOT)} is missing: run `npm ci --ignore-scripts` first "
                         f"(or `make setup`).")
    return json.loads(manifest.read_text(encoding="utf-8"))["version"]


def _pinned_version(package: str) -> str | None:
    lock = ROOT / "package-lock.json"
    if not lock.is_file():
        return None
    entry = json.loads(lock.read_text(encoding="utf-8")).get("packages", {}).get(f"node_modules/{package}")
    return entry.get("version") if entry else None


def plan() -> list[tuple[Path, Path]]:
    pairs = []
    for package, files in FILES.items():
        installed, pinned = _installed_version(package), _pinned_version(package)
        if pinned and installed != pinned:
            raise SystemExit(f"node_modules/{package} is {installed} but package-lock.json pins {pinned}: "
                             f"run `npm ci --ignore-scripts`.")
        for source, target in files:
            pairs.append((NODE_MODULES / package / source, VENDOR / package / target))
    return pairs


def check() -> int:
    stale = [str(target.relative_to(ROOT)) for source, target in plan()
             if not target.is_file() or not filecmp.cmp(source, target, shallow=False)]
    for path in stale:
        print(f"out of date: {path}", file=sys.stderr)
    return 1 if stale else 0


def sync() -> int:
    pairs = plan()
    wanted = {target for _source, target in pairs}
    for source, target in pairs:
        if not source.is_file():
            raise SystemExit(f"{source.relative_to(ROOT)} is missing from the installed package")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or not filecmp.cmp(source, target, shallow=False):
            shutil.copyfile(source, target)
    if VENDOR.is_dir():  # drop files a previous list copied and this one no longer names
        for path in sorted(VENDOR.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted and not path.name.startswith("."):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    print(f"static/vendor: {len(pairs)} files from " + ", ".join(
        f"{package} {_installed_version(package)}" for package in FILES))
    return 0


if __name__ == "__main__":
    sys.exit(check() if "--check" in sys.argv[1:] else sync())
