"""The container image carries every package the bot imports."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = {"tests", "bench", "tools"}


def test_the_dockerfile_copies_every_runtime_package():
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED
    }
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    image = dockerfile[dockerfile.rindex("\nFROM ") :]  # the last stage: what the image holds
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", image, flags=re.MULTILINE))
    assert packages - copied == set()
    assert {"app", "intake", "service", "miniapp"} <= packages
