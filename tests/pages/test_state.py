"""Session state has one owner (app_pages/state.py): every key declared there with its first
value and its lifetime, nothing else touching `st.session_state`, one way to keep widgets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import state
from tests.conftest import REPO
from tests.support.pages import open_page

APP_FILES = sorted([REPO / "app.py", *(REPO / "app_pages").glob("*.py")])
OWNER = REPO / "app_pages" / "state.py"


def names(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_no_file_but_the_state_module_touches_session_state():
    touching = [
        names(path) for path in APP_FILES if path != OWNER and "session_state" in path.read_text()
    ]
    assert touching == [], f"read and write session state through app_pages/state.py: {touching}"


def test_widgets_are_kept_across_pages_one_way_only():
    """`state.KEEP` (Streamlit's persist_state) is the one mechanism: no file sets it itself."""
    setting = [
        names(path) for path in APP_FILES if path != OWNER and "persist_state" in path.read_text()
    ]
    assert setting == []
    assert state.KEEP == {"persist_state": "session"}


# A widget's `key="..."` or `key=f"...{`, and the first argument of state.get/set/pop. (Read as
# text, not with `ast`: Python 3.11's ast.parse can fail while another thread parses code,
# as TensorFlow does when it traces a model.)
NAMED_KEY = re.compile(r"""(?:\bkey=|\bstate\.(?:get|set|pop)\()f?"([^"{]*)""")


def _literal_keys(path: Path):
    """The session keys a file names as text; of an f-string, the text before its first
    placeholder (a family's prefix), if any."""
    for key in NAMED_KEY.findall(path.read_text()):
        if key and key not in state.PAGES:  # a view's prefix: inside_section(..., key="draw")
            yield key


def test_every_key_the_pages_name_is_declared():
    found = {(names(path), key) for path in APP_FILES for key in _literal_keys(path)}
    assert len(found) > 100  # the scan sees the pages' widgets
    undeclared = []
    for where, key in sorted(found):
        try:
            state.declared(key)
        except KeyError:
            undeclared.append((where, key))
    assert undeclared == []


def test_a_key_declared_nowhere_is_refused_with_the_fix():
    with pytest.raises(KeyError, match="declare it in app_pages/state.py"):
        state.declared("evaluation_index")  # a typo: no page is called "evaluation"


@pytest.mark.parametrize(
    ("key", "lifetime"),
    [
        ("train_spec", state.SESSION),  # its own entry
        ("train_w_preset", state.KEPT),
        ("train_w_units_3", state.KEPT),  # the longest prefix wins: train_w_, not train_
        ("train_code_open", state.PAGE),
        ("xor_job", state.SESSION),
        ("xor_seed", state.KEPT),
        ("xor_unit", state.PAGE),
        ("runs_name_0123abcd", state.PAGE),
        ("draw_inside_unit", state.PAGE),
    ],
)
def test_each_key_lives_as_declared(key, lifetime):
    assert state.declared(key).lifetime == lifetime


def test_every_declaration_says_how_it_lives_and_what_it_holds():
    for key, entry in [*state.KEYS.items(), *state.FAMILIES.items()]:
        assert entry.lifetime in {state.SESSION, state.KEPT, state.PAGE}, key
        assert entry.holds, key
        assert key.split("_")[0] in {*state.PAGES, "data", "selected", "plane"}, key


def test_first_values():
    assert (state.default("evaluate_true"), state.default("evaluate_predicted")) == (4, 9)
    assert state.default("evaluate_index") == 0
    assert state.default("draw_pen") == 18
    assert state.default("train_run_id") is None
    assert state.default("train_just_started") is False
    assert state.default("train_link_problem") == (None, None)
    assert state.default("train_w_layers") is None  # drawn from the spec, not from here


def test_first_values_are_fresh_copies():
    state.default("runs_compare").append("abc")
    assert state.default("runs_compare") == []


def test_the_data_path_starts_as_mnist_data_says(monkeypatch):
    monkeypatch.setenv("MNIST_DATA", "/somewhere/mnist")
    assert state.default("data_path") == "/somewhere/mnist"
    monkeypatch.delenv("MNIST_DATA")
    assert state.default("data_path") == ""


def test_a_page_opened_on_its_own_has_every_session_default(small_mnist):
    """Pages whose widgets start from a first value call state.init themselves, so opening
    one without app.py (as a test does) finds every value it reads."""
    at = AppTest.from_file(str(REPO / "app_pages" / "draw.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    for key, entry in state.KEYS.items():
        if entry.lifetime == state.SESSION or entry.default is not None:
            assert at.session_state[key] == state.default(key), key


def test_train_settings_are_kept_while_another_page_is_shown(small_mnist):
    at = open_page("app_pages/train.py")
    at.selectbox(key="train_w_preset").set_value("128 relu, plain SGD").run()
    at.select_slider(key="train_w_units_0").set_value(256).run()
    at.slider(key="train_w_epochs").set_value(7).run()
    at.switch_page("app_pages/runs.py").run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="train_w_preset").value == "128 relu, plain SGD"
    assert at.select_slider(key="train_w_units_0").value == 256
    assert at.slider(key="train_w_epochs").value == 7
    spec = at.session_state["train_spec"]
    assert (spec.layers[0]["units"], spec.epochs) == (256, 7)


def test_xor_settings_are_kept_while_another_page_is_shown():
    at = open_page("app_pages/xor.py")
    at.slider(key="xor_hidden_layers").set_value(3).run()
    at.switch_page("app_pages/home.py").run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/xor.py").run()
    assert not at.exception, at.exception
    assert at.slider(key="xor_hidden_layers").value == 3
    assert at.session_state["xor_job"].spec.hidden_layers == 3
