"""The two build steps pyproject.toml cannot state on its own.

1. ``build_py`` also runs the repository's ``make lib`` and copies the
   shared libraries it made into the package (``goevent/_libs/``), so an
   installed wheel never needs the repository. Every versioned
   ``libevent*.so.*`` and ``libgoevent_engine*.so*`` file in
   ``<BUILD>/lib`` is bundled, whichever of them the build produces.
2. The wheel is platform-specific, tagged ``py3-none-<platform>``: the
   code is pure Python for any Python 3, but the bundled libraries are
   machine code for this platform.

Setuptools' own scratch directories go under the repository's build
directory, so building leaves the source tree as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Command, Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUNDLE_DIR = "_libs"  # inside the goevent package; _lib.py looks there
CORE = "libevent_core-2.1.so.7"


def _build_dir() -> Path:
    # The Makefile's BUILD variable, which make also takes from the
    # environment.
    build = Path(os.environ.get("BUILD", "build"))
    return build if build.is_absolute() else REPO / build


def _fail(message: str) -> None:
    raise SystemExit(f"goevent: {message}")


def _missing_tools() -> list[str]:
    """The prerequisites of `make lib` that this machine lacks."""
    missing = []
    if not shutil.which("make"):
        missing.append("make (Debian: apt-get install make)")
    go = os.environ.get("GO") or shutil.which("go")
    if not go and not os.access("/usr/local/go/bin/go", os.X_OK):
        missing.append("Go 1.22 or newer (https://go.dev/dl/; `go` on PATH)")
    cc = os.environ.get("CC", "").split()
    if not (cc and shutil.which(cc[0])) and not any(
        shutil.which(c) for c in ("cc", "gcc", "clang")
    ):
        missing.append("a C compiler (Debian: apt-get install gcc)")
    return missing


def build_library() -> Path:
    """Run `make lib` in the repository; return the directory it fills."""
    if not (REPO / "Makefile").is_file() or not (REPO / "go.mod").is_file():
        _fail(
            f"the package is built from the goevent repository, and {REPO} "
            "is not one (no Makefile/go.mod): build the wheel from a "
            "checkout, e.g. `pip wheel ./bindings/python`"
        )
    missing = _missing_tools()
    if missing:
        _fail(
            "building the shared library needs "
            + "; ".join(missing)
            + ". Install them and run pip again."
        )
    print("goevent: building the library with `make lib`", flush=True)
    result = subprocess.run(["make", "-C", str(REPO), "lib"], check=False)
    if result.returncode != 0:
        _fail(f"`make lib` failed with exit status {result.returncode} (output above)")
    libdir = _build_dir() / "lib"
    if not (libdir / CORE).is_file():
        _fail(f"`make lib` succeeded but {libdir / CORE} is missing")
    return libdir


def _is_elf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def runtime_libraries(libdir: Path) -> list[Path]:
    """The files of ``libdir`` a process loads at run time.

    That is the core and its companions (``libevent*.so.*``) and the engine
    the core opens (``libgoevent_engine*``). Unversioned ``*.so`` names are
    for the linker (symlinks or linker scripts) and are left out.
    """
    found = []
    for path in sorted(libdir.iterdir()):
        name = path.name
        if not name.startswith(("libevent", "libgoevent_engine")):
            continue
        if ".so" not in name or name.endswith(".so"):
            continue
        if path.is_file() and _is_elf(path):
            found.append(path)
    return found


class BuildPyWithLibrary(build_py):
    """build_py, then `make lib` and a copy of its libraries."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            # An editable install uses the repository's build tree.
            return
        libdir = build_library()
        dest = Path(self.build_lib) / "goevent" / BUNDLE_DIR
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        libs = runtime_libraries(libdir)
        for lib in libs:
            # copy2 follows symlinks: the wheel gets the file itself.
            shutil.copy2(lib, dest / lib.name)
            print(f"goevent: bundling {lib.name}", flush=True)
        self._bundled = [str(dest / lib.name) for lib in libs]

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + getattr(self, "_bundled", [])


class PlatformDistribution(Distribution):
    """Says it has compiled code, so the wheel installs to platlib."""

    def has_ext_modules(self) -> bool:
        return True


cmdclass: dict[str, type[Command]] = {"build_py": BuildPyWithLibrary}

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]
    except ImportError:
        bdist_wheel = None  # type: ignore[assignment,misc]

if bdist_wheel is not None:

    class PlatformWheel(bdist_wheel):  # type: ignore[misc,valid-type]
        """A wheel for any Python 3 on this platform only."""

        def get_tag(self) -> tuple[str, str, str]:
            _python, _abi, platform = super().get_tag()
            return "py3", "none", platform

    cmdclass["bdist_wheel"] = PlatformWheel
else:

    class NoWheel(Command):
        """Says what is missing instead of "invalid command"."""

        user_options: list[tuple[str, str | None, str]] = []

        def initialize_options(self) -> None:
            pass

        def finalize_options(self) -> None:
            pass

        def run(self) -> None:
            _fail(
                "building a wheel with setuptools < 70.1 needs the `wheel` "
                "package (Debian: python3-wheel), which pip installs itself "
                "unless --no-build-isolation is given"
            )

    cmdclass["bdist_wheel"] = NoWheel

scratch = _build_dir() / "python"
scratch.mkdir(parents=True, exist_ok=True)

setup(
    distclass=PlatformDistribution,
    cmdclass=cmdclass,
    options={
        "build": {"build_base": str(scratch / "setuptools")},
        "egg_info": {"egg_base": str(scratch)},
    },
)
