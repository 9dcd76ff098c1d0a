"""The service starts without the explanation stack: shap (with numba and
llvmlite) and matplotlib are for `rediscover explain` and reports only."""

import json
import subprocess
import sys

from tests.servers import REPO_ROOT

HEAVY = ("shap", "matplotlib", "numba", "llvmlite")
PROBE = f"""
import json, sys, warnings
warnings.simplefilter("ignore")  # bentoml's import-time deprecations: not ours
import serving.service
heavy = {HEAVY!r}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))))
"""


def test_importing_the_service_imports_neither_shap_nor_matplotlib() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True,
        text=True, check=True, timeout=300,
    )  # fmt: skip
    assert json.loads(done.stdout.splitlines()[-1]) == []
