"""`.env.example` lists every setting of every package."""

import subprocess
import sys

from silktrace.config import PROJECT_ROOT


def test_env_example_is_generated_from_the_settings_classes() -> None:
    out = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts/gen_env_example.py"), "--check"], check=False
    )
    assert out.returncode == 0, "run: .venv/bin/python scripts/gen_env_example.py"
