"""The report in a real headless browser (Debian chromium): it renders, and the console stays clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.report.journal import read_journal
from harness.report.render_html import render_html

from .journal_factory import GOLDEN, build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_chromium(page: Path, profile: Path, *extra: str) -> str:
    """Open ``page`` headless with console logging to stderr; return stderr (bounded by a timeout)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def console_lines(stderr: str) -> list[str]:
    """Page console messages (errors, CSP violations, uncaught exceptions) chromium logged."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class TestHeadlessChromium:
    def test_screenshot_and_clean_console(self, tmp_path: Path) -> None:
        """The report loads with no console message and screenshots to a non-trivial PNG."""
        page = render_html([read_journal(GOLDEN), build("no-go")], tmp_path / "report.html")
        shot = tmp_path / "report.png"
        stderr = run_chromium(
            page, tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}"
        )
        assert console_lines(stderr) == []
        data = shot.read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 50_000

    def test_control_broken_script_is_detected(self, tmp_path: Path) -> None:
        """A deliberately broken <script> in the same page is caught, so the clean result means something."""
        page = render_html([build("no-go")], tmp_path / "report.html")
        html = page.read_text().replace(
            '<meta http-equiv="Content-Security-Policy"', '<meta name="x-csp-off"'
        )
        broken = tmp_path / "broken.html"
        broken.write_text(html.replace("</body>", "<script>let x = ;</script></body>"))
        lines = console_lines(run_chromium(broken, tmp_path / "profile", "--dump-dom"))
        assert any("Uncaught SyntaxError" in line for line in lines), lines

    def test_control_csp_blocks_injected_script(self, tmp_path: Path) -> None:
        """With the report's CSP, even a valid injected script is refused and reported on the console."""
        page = render_html([build("no-go")], tmp_path / "report.html")
        injected = tmp_path / "injected.html"
        injected.write_text(
            page.read_text().replace("</body>", "<script>document.title='pwned'</script></body>")
        )
        lines = console_lines(run_chromium(injected, tmp_path / "profile", "--dump-dom"))
        assert any("Content Security Policy" in line for line in lines), lines
