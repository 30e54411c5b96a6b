"""The Runs page through Streamlit's AppTest, on a store filled in a temporary home."""

from __future__ import annotations

import html
import json
import re
import sqlite3

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from core.runs.store import RunStore
from core.training.registry import JOBS
from tests.support.pages import open_page as open_app_page
from tests.support.pages import run_until
from tests.support.runs import fill_run, model_bytes, tiny_model
from tests.support.specs import small_spec

PAGE = "app_pages/runs.py"


@pytest.fixture
def store() -> RunStore:
    """A store in the test's own KERAS_PLAYGROUND_HOME (set by conftest) with three runs."""
    store = RunStore()
    fill_run(store, small_spec(learning_rate=0.01), name="narrow", seed=1)
    fill_run(store, small_spec(units=16, learning_rate=0.1), name="wide", seed=2)
    fill_run(store, small_spec(optimizer="sgd", learning_rate=0.1), epochs=5, name="sgd", seed=3)
    return store


@pytest.fixture(scope="module")
def a_model():
    """One small Keras model, only ever saved: the model file of every run that needs one."""
    return tiny_model()


def open_page() -> AppTest:
    """The Runs page through app.py, as a person reaches it (its links need the navigation)."""
    return open_app_page(PAGE)


def rendered_text(markdown: str) -> str:
    """The text of `markdown` rendered by CommonMark, tags removed, invisible spaces kept."""
    return html.unescape(re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").render(markdown))).strip()


def shown(markdown: str) -> str:
    """The text a reader sees of `markdown`."""
    return rendered_text(markdown).replace("\u200b", "")


def autolinked(markdown: str) -> bool:
    """Whether GitHub-flavoured markdown (Streamlit's) would make a bare address a link."""
    return bool(re.search(r"https?://\w|www\.\w|\w@\w", rendered_text(markdown)))


def ids_by_name(store: RunStore) -> dict[str, str]:
    return {run.name: run.id for run in store.list_runs()}


def test_table_lists_every_run(store):
    at = open_page()
    table = at.dataframe[0].value
    assert sorted(table["Name"]) == ["narrow", "sgd", "wide"]
    assert table.set_index("Name").loc["sgd", "Epochs"] == 5


def test_an_empty_store_says_how_to_get_runs():
    at = open_page()
    assert "No runs yet" in at.info[0].value
    assert len(at.dataframe) == 0


def test_rename_changes_the_name_in_the_store_and_the_table(store):
    run_id = ids_by_name(store)["wide"]
    at = open_page()
    at.selectbox(key="runs_run").set_value(run_id).run()
    at.text_input(key=f"runs_name_{run_id}").input("wide and shallow")
    at.button(key="runs_rename").click().run()
    assert not at.exception, at.exception
    assert store.get(run_id).name == "wide and shallow"
    assert "wide and shallow" in list(at.dataframe[0].value["Name"])
    assert at.success[0].value == "Renamed."


def test_delete_asks_first_then_removes_the_run_and_its_model(store, a_model):
    run_id, _ = fill_run(store, model=a_model, name="doomed")
    path = store.model_path(run_id)
    at = open_page()
    at.selectbox(key="runs_run").set_value(run_id).run()
    assert at.button(key="runs_delete").disabled  # nothing happens before the confirmation
    at.checkbox(key=f"runs_confirm_delete_{run_id}").check().run()
    at.button(key="runs_delete").click().run()
    assert not at.exception, at.exception
    assert "doomed" not in ids_by_name(store) and not path.exists()
    assert "doomed" not in list(at.dataframe[0].value["Name"])
    assert "Deleted doomed" in shown(at.success[0].value)


def test_comparing_runs_overlays_curves_specs_and_confusion_matrices(store):
    ids = ids_by_name(store)
    at = open_page()
    at.multiselect(key="runs_compare").set_value([ids["narrow"], ids["sgd"]]).run()
    at.selectbox(key="runs_metric").set_value("loss").run()
    assert not at.exception, at.exception
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    overlay, *matrices = charts
    assert [trace["name"] for trace in overlay["data"]] == ["narrow", "sgd"]
    assert len(overlay["data"][1]["y"]) == 5
    assert overlay["layout"]["yaxis"]["title"]["text"] == "Training loss"
    assert len(matrices) == 2
    assert [m["layout"]["title"]["text"].split(" ·")[0] for m in matrices] == ["narrow", "sgd"]
    settings = at.dataframe[1].value
    assert list(settings.columns) == ["narrow", "sgd"]
    assert settings.loc["Optimizer"].tolist() == ["adam", "sgd"]


def test_one_run_chosen_asks_for_another(store):
    at = open_page()
    at.multiselect(key="runs_compare").set_value([ids_by_name(store)["wide"]]).run()
    assert len(at.get("plotly_chart")) == 0
    assert any("two or more" in caption.value for caption in at.caption)


def test_a_bad_upload_shows_the_reason_and_keeps_every_run(store):
    at = open_page()
    at.file_uploader(key="runs_upload").set_value(
        ("notes.keras", b"not a model", "application/octet-stream")
    )
    at.button(key="runs_import").click().run()
    assert not at.exception, at.exception
    assert "notes.keras is not a Keras model file" in shown(at.error[0].value)
    assert sorted(ids_by_name(store)) == ["narrow", "sgd", "wide"]


def test_a_good_upload_becomes_a_run(store, tmp_path, a_model):
    data = model_bytes(a_model, tmp_path, "mlp.keras")
    at = open_page()
    at.file_uploader(key="runs_upload").set_value(("mlp.keras", data, "application/octet-stream"))
    at.text_input(key="runs_import_name").input("from my laptop")
    at.button(key="runs_import").click().run()
    assert not at.exception, at.exception
    assert shown(at.success[0].value) == "Imported mlp.keras."
    run_id = ids_by_name(store)["from my laptop"]
    assert store.get(run_id).status == "imported"
    assert at.selectbox(key="runs_run").value == run_id
    assert "from my laptop" in list(at.dataframe[0].value["Name"])


def test_a_run_left_by_a_dead_process_shows_as_interrupted(store):
    run_id = store.create_run(small_spec(), "x", name="cut short")
    with sqlite3.connect(store.db_path) as conn:  # as if its owner had died
        conn.execute("UPDATE runs SET owner_pid = 999999999 WHERE id = ?", (run_id,))
    at = open_page()
    table = at.dataframe[0].value.set_index("Name")
    assert table.loc["cut short", "Status"] == "interrupted"


def test_the_delete_tick_belongs_to_the_run_it_was_given_for(store):
    ids = ids_by_name(store)
    at = open_page()
    at.selectbox(key="runs_run").set_value(ids["narrow"]).run()
    at.checkbox(key=f"runs_confirm_delete_{ids['narrow']}").check().run()
    assert not at.button(key="runs_delete").disabled
    at.selectbox(key="runs_run").set_value(ids["wide"]).run()
    assert not at.checkbox(key=f"runs_confirm_delete_{ids['wide']}").value
    assert at.button(key="runs_delete").disabled  # nobody confirmed deleting "wide"
    assert sorted(ids_by_name(store)) == ["narrow", "sgd", "wide"]


def test_a_name_is_shown_as_typed_never_as_markdown(store, tmp_path, a_model):
    name = "**bold** [link](http://example.com)"
    run_id = store.import_model(model_bytes(a_model, tmp_path, "m.keras"), "m.keras", name)
    at = open_page()
    at.selectbox(key="runs_run").set_value(run_id).run()
    now_use = next(c.value for c in at.caption if "now use" in c.value)
    label = at.checkbox(key=f"runs_confirm_delete_{run_id}").label
    for markdown in (now_use, label):
        rendered = MarkdownIt("commonmark").render(markdown)
        assert "<strong>" not in rendered and "<a " not in rendered, rendered
        assert not autolinked(markdown), markdown
        assert name in shown(markdown)
    at.checkbox(key=f"runs_confirm_delete_{run_id}").check().run()
    at.button(key="runs_delete").click().run()
    assert shown(at.success[0].value) == f"Deleted {name} and its model file."
    assert "<strong>" not in MarkdownIt("commonmark").render(at.success[0].value)


def test_a_run_deleted_in_another_tab_says_why_its_download_failed(store, tmp_path, a_model):
    run_id = store.import_model(model_bytes(a_model, tmp_path, "m.keras"), "m.keras", "gone")
    at = open_page()
    at.selectbox(key="runs_run").set_value(run_id).run()
    store.delete(run_id)  # another tab
    at.download_button(key="runs_model").click().run()
    assert not at.exception, at.exception
    assert any("gone or its model file was deleted meanwhile" in shown(e.value) for e in at.error)
    assert "gone" not in list(at.dataframe[0].value["Name"])


# ----- two sessions: a run deleted in another tab ----------------------------------------------
# Session B (`at`) looks at a run; session A, another AppTest on the same store, deletes it
# through its own page; then B acts. Whatever B does names the deleted run, changes nothing,
# and shows no other run in its place until B chooses one.


@pytest.fixture
def two_models(store, a_model) -> dict[str, str]:
    """Two more runs with model files, "kept" and, newest, "looked at" (one epoch each: a
    recorded run saves its model at every epoch, and these tests need only the file)."""
    fill_run(store, model=a_model, epochs=1, name="kept", seed=4)
    fill_run(store, model=a_model, epochs=1, name="looked at", seed=5)
    return ids_by_name(store)


def delete_in_another_tab(run_id: str) -> None:
    other = open_page()
    other.selectbox(key="runs_run").set_value(run_id).run()
    other.checkbox(key=f"runs_confirm_delete_{run_id}").check().run()
    other.button(key="runs_delete").click().run()
    assert not other.exception, other.exception
    assert "Deleted looked at" in shown(other.success[0].value)


def assert_nothing_in_its_place(at: AppTest, store: RunStore, picker: str = "runs_run") -> None:
    """B's page names the deleted run, chooses none, and every other run is as it was."""
    assert not at.exception, at.exception
    assert at.selectbox(key=picker).value is None
    warnings = [shown(w.value) for w in at.warning]
    assert any("looked at, the run you were looking at, was deleted" in w for w in warnings)
    assert sorted(ids_by_name(store)) == ["kept", "narrow", "sgd", "wide"]  # none renamed
    assert not [w for w in at.text_input if w.key and w.key.startswith("runs_name_")]
    assert not [b for b in at.button if b.key in ("runs_rename", "runs_delete")]


def looking_at(run_id: str) -> AppTest:
    at = open_page()
    at.selectbox(key="runs_run").set_value(run_id).run()
    assert at.text_input(key=f"runs_name_{run_id}").value == "looked at"
    return at


def test_rename_of_a_run_deleted_in_another_tab_renames_nothing(store, two_models):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    delete_in_another_tab(run_id)
    at.text_input(key=f"runs_name_{run_id}").input("my best")
    at.button(key="runs_rename").click().run()
    assert any("Nothing was renamed: #5 looked at was deleted" in shown(e.value) for e in at.error)
    assert_nothing_in_its_place(at, store)


def test_delete_of_a_run_deleted_in_another_tab_deletes_nothing_else(store, two_models):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    at.checkbox(key=f"runs_confirm_delete_{run_id}").check().run()
    delete_in_another_tab(run_id)
    at.button(key="runs_delete").click().run()
    assert any("#5 looked at was deleted meanwhile" in shown(e.value) for e in at.error)
    assert_nothing_in_its_place(at, store)


@pytest.mark.parametrize("button", ["runs_model", "runs_csv"])
def test_a_download_of_a_run_deleted_in_another_tab_says_so(store, two_models, button):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    delete_in_another_tab(run_id)
    at.download_button(key=button).click().run()
    assert any("Nothing was downloaded: #5 looked at" in shown(e.value) for e in at.error)
    assert_nothing_in_its_place(at, store)


def test_the_script_download_of_a_run_deleted_in_another_tab_says_so(store, two_models):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    at.session_state["runs_code_open"] = True  # the Keras code expander, opened
    at.run()
    delete_in_another_tab(run_id)
    at.download_button(key=f"runs_code_{run_id}_download_py").click().run()
    assert any("Nothing was downloaded: #5 looked at" in shown(e.value) for e in at.error)
    assert_nothing_in_its_place(at, store)


def test_the_newest_run_shown_by_default_is_the_one_acted_on(store, two_models):
    at = open_page()  # nothing chosen: the newest, "looked at", is shown
    run_id = two_models["looked at"]
    assert at.selectbox(key="runs_run").value == run_id
    delete_in_another_tab(run_id)
    at.download_button(key="runs_model").click().run()
    assert_nothing_in_its_place(at, store)


def test_choosing_again_after_a_deletion_shows_that_run(store, two_models):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    delete_in_another_tab(run_id)
    at.run()
    assert_nothing_in_its_place(at, store)
    at.selectbox(key="runs_run").set_value(two_models["kept"]).run()
    assert at.text_input(key=f"runs_name_{two_models['kept']}").value == "kept"
    assert not at.warning


def test_a_compared_run_deleted_in_another_tab_is_named_and_not_replaced(store, two_models):
    ids = two_models
    at = open_page()
    at.multiselect(key="runs_compare").set_value([ids["looked at"], ids["kept"], ids["sgd"]]).run()
    delete_in_another_tab(ids["looked at"])
    at.selectbox(key="runs_metric").set_value("loss").run()
    assert not at.exception, at.exception
    assert any("No longer compared: #5 looked at" in shown(w.value) for w in at.warning)
    assert at.multiselect(key="runs_compare").value == [ids["kept"], ids["sgd"]]
    overlay = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in overlay["data"]] == ["kept", "sgd"]


@pytest.mark.parametrize(
    ("page", "picker"),
    [("app_pages/evaluate.py", "evaluate_run"), ("app_pages/draw.py", "draw_run")],
)
def test_evaluate_and_draw_never_show_another_run_in_place_of_a_deleted_one(
    store, two_models, small_mnist, page, picker
):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    delete_in_another_tab(run_id)
    at.switch_page(page).run()  # "Evaluate it", or Draw from the sidebar
    assert_nothing_in_its_place(at, store, picker)
    assert not at.metric and not at.info  # nothing evaluated, no prompt to draw
    at.selectbox(key=picker).set_value(two_models["kept"]).run()
    assert not at.exception and not at.warning
    assert at.session_state["selected_run_id"] == two_models["kept"]


def test_a_run_deleted_here_leaves_nothing_chosen_without_a_warning(store, two_models):
    run_id = two_models["looked at"]
    at = looking_at(run_id)
    at.checkbox(key=f"runs_confirm_delete_{run_id}").check().run()
    at.button(key="runs_delete").click().run()
    assert shown(at.success[0].value) == "Deleted looked at and its model file."
    assert at.selectbox(key="runs_run").value is None and not at.warning


def test_train_drops_the_result_of_its_run_once_it_is_deleted_on_runs(small_mnist):
    at = open_app_page("app_pages/train.py")
    at.slider(key="train_w_layers").set_value(1).run()
    at.select_slider(key="train_w_units_0").set_value(32).run()
    at.slider(key="train_w_epochs").set_value(1).run()
    at.button(key="train_start_button").click().run()
    run_id = at.session_state["train_run_id"]
    assert JOBS.get(run_id).join(timeout=120)  # its end stored too
    run_until(at, lambda at: any(m.label == "Test accuracy" for m in at.metric))
    at.switch_page(PAGE).run()
    assert at.selectbox(key="runs_run").value == run_id  # the run just trained
    at.checkbox(key=f"runs_confirm_delete_{run_id}").check().run()
    at.button(key="runs_delete").click().run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    assert not [m for m in at.metric if m.label == "Test accuracy"]
    assert not [s for s in at.success if "Trained" in s.value]
    assert any("press **Train** to watch it learn" in i.value for i in at.info)
