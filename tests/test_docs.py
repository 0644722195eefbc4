"""The runnable examples in the public docstrings stay true."""

from __future__ import annotations

import doctest

import pytest

import tierrules
from tierrules.evaluation import engine as _engine


@pytest.mark.parametrize("module", [tierrules, _engine], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_public_api_is_exported() -> None:
    for name in tierrules.__all__:
        assert hasattr(tierrules, name), name
    assert all(not name.startswith("_") or name == "__version__" for name in tierrules.__all__)
