import os
import sys
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parent
ROOT = RECIPE.parents[1]
sys.path.insert(0, str(RECIPE))


@pytest.fixture(scope="session")
def gatito_bin():
    """The release command line; ./build.sh test builds it before running these tests."""
    path = Path(os.environ.get("GATITO_BIN", ROOT / "target" / "release" / "gatito"))
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo build --release -p gatito` first (./build.sh test does)")
    return path


@pytest.fixture(scope="session")
def tokenizer_path():
    return ROOT / "models" / "gatito-s" / "tokenizer.json"
