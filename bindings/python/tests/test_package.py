"""Which library the package loads, from where, and ``python -m goevent``.

The same tests run against the repository's package (library from the
build tree) and against an installed wheel (library bundled in the
package); each asserts what its situation requires.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from pathlib import Path

import goevent
from goevent import EventBase

loader = sys.modules["goevent._lib"]

PACKAGE = Path(goevent.__file__).resolve().parent
BUNDLE = PACKAGE / "_libs"
OURS = ("libevent", "libgoevent_engine")


def mapped_libraries() -> set[str]:
    """Paths of the libevent/goevent files mapped into this process."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and Path(fields[5].strip()).name.startswith(OURS):
                found.add(os.path.realpath(fields[5].strip()))
    return found


def child_env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE.parent), env.get("PYTHONPATH")) if p
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class PackageTest(unittest.TestCase):
    def test_the_loaded_library_is_the_expected_one(self) -> None:
        path = goevent.library_path()
        origin = goevent.library_origin()
        chosen = os.environ.get("GOEVENT_LIBRARY")
        if chosen:
            self.assertEqual(origin, "GOEVENT_LIBRARY")
            self.assertEqual(os.path.realpath(path), os.path.realpath(chosen))
        elif BUNDLE.is_dir():
            self.assertEqual(origin, "bundled")
            self.assertEqual(Path(path).parent, BUNDLE)
        else:
            self.assertEqual(origin, "build tree")
            self.assertEqual(Path(path).parent.parent.name, "build")
        self.assertEqual(goevent.version(), "2.1.12-stable")
        # Everything of ours in memory comes from the directory the core was
        # loaded from (an engine the core opens included, unless
        # GOEVENT_ENGINE names another).
        with EventBase():
            pass
        mapped = mapped_libraries()
        if os.environ.get("GOEVENT_ENGINE"):
            mapped = {p for p in mapped if not Path(p).name.startswith(OURS[1])}
        where = {Path(p).parent for p in mapped}
        self.assertEqual(where, {Path(os.path.realpath(path)).parent})

    def test_an_installed_wheel_bundles_its_libraries(self) -> None:
        if not BUNDLE.is_dir():
            self.skipTest("not an installed wheel (no bundled libraries)")
        names = sorted(p.name for p in BUNDLE.iterdir())
        self.assertIn("libevent_core-2.1.so.7", names)
        self.assertIn("libevent_pthreads-2.1.so.7", names)
        for name in names:
            with open(BUNDLE / name, "rb") as f:
                self.assertEqual(f.read(4), b"\x7fELF", name)
        # The installed package is not the repository's.
        self.assertNotEqual(PACKAGE.parent.name, "python")
        self.assertTrue((PACKAGE / "py.typed").is_file())
        if os.environ.get("GOEVENT_LIBRARY") or os.environ.get("GOEVENT_ENGINE"):
            return
        # An engine library, when the build makes one, is bundled and used.
        engines = [n for n in names if n.startswith("libgoevent_engine")]
        with EventBase():
            mapped = {Path(p).name for p in mapped_libraries()}
        for engine in engines:
            self.assertIn(engine, mapped)

    def test_lookup_order(self) -> None:
        saved = os.environ.pop("GOEVENT_LIBRARY", None)
        try:
            origins = [origin for origin, _ in loader.candidates()]
        finally:
            if saved is not None:
                os.environ["GOEVENT_LIBRARY"] = saved
        expected = ["bundled"] if BUNDLE.is_dir() else ["build tree"]
        self.assertEqual(origins[:1], expected)
        self.assertEqual(origins, sorted(origins, key=["bundled", "build tree", "system"].index))
        os.environ["GOEVENT_LIBRARY"] = "/nonexistent/libevent_core-2.1.so.7"
        try:
            self.assertEqual(
                loader.candidates(), [("GOEVENT_LIBRARY", "/nonexistent/libevent_core-2.1.so.7")]
            )
        finally:
            if saved is None:
                del os.environ["GOEVENT_LIBRARY"]
            else:
                os.environ["GOEVENT_LIBRARY"] = saved

    def test_goevent_library_is_final(self) -> None:
        result = subprocess.run(
            [sys.executable, "-c", "import goevent"],
            env=child_env(GOEVENT_LIBRARY="/nonexistent/libevent_core-2.1.so.7"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("ImportError", result.stderr)
        self.assertIn("/nonexistent/libevent_core-2.1.so.7", result.stderr)

    def test_python_m_goevent(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "goevent"],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(
            lines[0],
            f"library:  {goevent.library_path()} ({goevent.library_origin()})",
        )
        self.assertEqual(lines[1], "version:  2.1.12-stable")
        self.assertEqual(lines[-1], "self-check: ok")


if __name__ == "__main__":
    unittest.main()
