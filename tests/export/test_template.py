"""Filling a script template: placeholders in a line, and parts on their own lines."""

from __future__ import annotations

import pytest

from core.export.template import fill


def test_a_placeholder_in_a_line_takes_its_text():
    assert fill('SEED = $seed\nmodel.save("$stem.keras")', seed="3", stem="a") == (
        'SEED = 3\nmodel.save("a.keras")'
    )


def test_a_part_is_indented_as_its_placeholder_and_keeps_its_blank_lines():
    template = "model = [\n    $layers\n]"
    assert fill(template, layers="one(\n    x\n),\n\ntwo,") == (
        "model = [\n    one(\n        x\n    ),\n\n    two,\n]"
    )


def test_an_empty_part_takes_its_line_away():
    template = "import gzip\n$import_math\nimport sys\n"
    assert fill(template, import_math="") == "import gzip\nimport sys\n"
    assert fill(template, import_math="import math") == "import gzip\nimport math\nimport sys\n"


def test_a_missing_part_is_named():
    with pytest.raises(KeyError, match="epochs"):
        fill("EPOCHS = $epochs", seed="1")
