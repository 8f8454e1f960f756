"""docker-compose.yml is accepted by Compose itself, and its web and scheduler check their health."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose_command() -> list[str]:
    """``docker compose`` (the plugin) or ``docker-compose`` (the standalone program), whichever works."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, timeout=60).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    pytest.skip("no Compose command here (.ci/run installs Debian's docker-compose)")


def test_compose_accepts_the_file_and_both_app_services_have_healthchecks(tmp_path: Path) -> None:
    done = subprocess.run(
        [*compose_command(), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert "readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["scheduler"]["healthcheck"]["test"] == ["CMD", "digest", "health"]
    assert services["db"]["healthcheck"]["test"][0] == "CMD-SHELL"
