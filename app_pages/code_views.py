"""Code and links on the pages: the Keras script view, share links, spec JSON download/upload.

Pure work (the script, the link's parameters) happens in `core.export.keras_script` and
`core.export.links`; these functions only draw it and keep `st.query_params` in step. Each
takes a `key` prefix from the page that calls it, so two pages never share widget keys; what
they remember (a link read, an upload's notice) goes through app_pages/state.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from app_pages import plane_settings, state, train_controls
from app_pages.text import plain
from core.export.keras_script import export_script, script_diff, script_filename
from core.export.links import (
    Restored,
    flat_spec_from_params,
    flat_spec_to_params,
    spec_from_params,
    spec_to_params,
)
from core.export.plane_script import export_plane_script, plane_script_filename
from core.export.spec_file import spec_from_json
from core.nets.presets import DEFAULT_PRESET, PRESETS
from core.plane.spec import PlaneSpec

JSON_MEGABYTES = 1


# ----- the script ----------------------------------------------------------------------------


def code_expander(label: str, key: str):
    """An expander for a script, whose contents a page draws only while it is open
    (`if box.open:` inside it): highlighting a script slowed the browser's load of the Train
    page, for code that stays folded away unless asked for. Opening it reruns the
    page, which then draws the code."""
    return st.expander(label, icon=":material/code:", key=key, on_change="rerun")


def code_view(
    script: str, filename: str, key: str, *, height: int | str = 420, download: dict | None = None
) -> None:
    """The script highlighted (with Streamlit's copy button on hover) and a .py download;
    `download` replaces its arguments (say `data` made when pressed, and an `on_click`)."""
    st.code(script, language="python", line_numbers=False, height=height)
    st.download_button(
        "Download .py",
        file_name=filename,
        mime="text/x-python",
        icon=":material/download:",
        key=f"{key}_download_py",
        **({"data": script, "on_click": "ignore"} | (download or {})),
    )


def spec_code_view(
    spec, key: str, *, note: str | None = None, download: dict | None = None, changes=()
) -> None:
    """The Keras script of a `ModelSpec` (with a run's steering `changes`) and how to run it."""
    filename = script_filename(spec)
    st.caption(
        note
        or (
            "The same network and training as a Keras script: the same seed, split and "
            f"starting weights give the same numbers. Run it with `python {filename}`, or "
            f"`python {filename} FOLDER` to use your own MNIST IDX files or mnist.npz."
        )
    )
    code_view(export_script(spec, changes), filename, key, download=download)


def runs_script_diff(specs: list, names: list[str], key: str) -> None:
    """How each chosen run's script differs from the first one's, as unified diffs."""
    scripts = [None if spec is None else export_script(spec) for spec in specs]
    if scripts[0] is None:
        st.caption(f"{names[0]} has no Keras script to compare with (no spec was recorded).")
        return
    others = list(range(1, len(specs)))
    tabs = st.tabs([f"{names[0]} → {names[i]}" for i in others])
    for tab, i in zip(tabs, others, strict=True):
        with tab:
            if scripts[i] is None:
                st.caption(f"{names[i]} has no Keras script (no spec was recorded).")
                continue
            diff = script_diff(scripts[0], scripts[i], names[0], names[i])
            if diff:
                st.code(diff, language="diff", height=min(420, 24 * (diff.count("\n") + 2)))
            else:
                st.caption("The two scripts are the same: these runs trained the same way.")


# ----- share links ---------------------------------------------------------------------------


def restore_link_once(
    key: str, read: Callable[[Mapping[str, str]], Restored], apply: Callable[[Any], None]
) -> bool:
    """On a session's first run of the page, restore the set-up its URL carries.

    `read` turns the query parameters into a `Restored`; `apply` puts its spec into the
    widgets' session state (before the widgets are drawn). Returns whether a link was applied.
    """
    flag = f"{key}_link_read"
    if state.get(flag):
        return False
    state.set(flag, True)
    params = st.query_params.to_dict()
    if not params:
        return False
    restored = read(params)
    apply(restored.spec)
    state.set(f"{key}_link_problem", (restored.problem, restored.spec))
    return True


def link_notice(key: str, spec) -> None:
    """The link's one-line problem, shown while the settings are still the ones it restored."""
    problem, restored_spec = state.get(f"{key}_link_problem")
    if problem and spec == restored_spec:
        st.warning(plain(problem), icon=":material/link_off:")  # "~" is not markdown


def sync_link(params: dict[str, str]) -> None:
    """Make the page's URL carry `params` (and nothing else), so it can be shared as it is."""
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


# ----- spec files ----------------------------------------------------------------------------


def spec_download(spec, filename: str, key: str) -> None:
    st.download_button(
        "Download settings (.json)",
        data=json.dumps(spec.to_dict(), indent=2),
        file_name=filename,
        mime="application/json",
        icon=":material/data_object:",
        key=f"{key}_download_json",
        on_click="ignore",
        help="Every setting of this network, to upload here later or keep with your notes.",
    )


def spec_upload(key: str, read: Callable[[str], Restored], apply: Callable[[Any], None]) -> None:
    """A .json uploader; an uploaded spec goes through `read` (page limits) into the widgets."""

    def uploaded() -> None:
        upload = state.get(f"{key}_upload_json")
        if upload is None:
            return
        try:
            restored = read(upload.getvalue().decode("utf-8"))
        except (ValueError, TypeError, UnicodeDecodeError) as error:
            state.set(
                f"{key}_upload_notice",
                ("error", f"{upload.name} is not a settings file of this app: {error}"),
            )
            return
        apply(restored.spec)
        if restored.problem:
            state.set(f"{key}_upload_notice", ("warning", restored.problem))
        else:
            state.set(f"{key}_upload_notice", ("success", f"Loaded {upload.name}."))

    st.file_uploader(
        "Upload settings (.json)",
        type=["json"],
        key=f"{key}_upload_json",
        on_change=uploaded,
        max_upload_size=JSON_MEGABYTES,
    )
    notice = state.pop(f"{key}_upload_notice")
    if notice:
        show = {"error": st.error, "warning": st.warning, "success": st.success}[notice[0]]
        show(plain(notice[1]))


# ----- the Train page --------------------------------------------------------------------------

# What the Train page's controls can show (their own table, in app_pages/train_controls.py).
TRAIN_LIMITS = train_controls.LIMITS
TRAIN_DEFAULTS = PRESETS[DEFAULT_PRESET].spec  # what a link or file leaves out


def train_link(current_spec: Callable[[], Any], set_spec: Callable[[Any], None]) -> None:
    """Top of the Train page: restore a shared link once, then keep the URL on the spec."""
    restore_link_once(
        "train",
        lambda params: spec_from_params(params, TRAIN_DEFAULTS, TRAIN_LIMITS),
        set_spec,
    )
    link_notice("train", current_spec())
    sync_link(spec_to_params(current_spec()))


def train_extras(spec, set_spec: Callable[[Any], None]) -> None:
    """Under the Train page's model summary: the Keras code, and the settings as a file."""
    with code_expander("Keras code for this network", "train_code_open") as box:
        if box.open:
            spec_code_view(spec, "train_code")
    with st.expander("Share these settings", icon=":material/share:"):
        st.caption(
            "The page's address holds every setting: copy it from the address bar to share "
            "this network. Or keep the settings as a file:"
        )
        spec_download(spec, f"{script_filename(spec)[:-3]}.json", "train_spec")
        spec_upload(
            "train_spec",
            lambda text: spec_from_json(text, TRAIN_DEFAULTS, TRAIN_LIMITS),
            set_spec,
        )


# ----- the Runs page ---------------------------------------------------------------------------


def run_code(run, key: str = "runs_code", *, download: dict | None = None, changes=()) -> None:
    """The Keras script of a stored run, in an expander; a note where there is none.
    `download`: the .py download's arguments (see `code_view`); `changes`: what the learner
    changed while it trained (core/runs/changes.py), which the script sets again."""
    spec = run.spec
    with code_expander("Keras code for this run", f"{key}_open") as box:
        if not box.open:
            return
        if spec is None:
            st.caption(
                "This run recorded no network the playground can write as a script "
                "(an imported model of another kind, or a baseline)."
            )
            return
        note = None
        if "epochs" not in (run.spec_dict or {}):  # a model file never records its training
            note = (
                "This model was imported: the script rebuilds its layers (and its optimizer and "
                "loss where the file kept them), but the file did not say how long or on what "
                "batches it was trained, so those settings are the playground's defaults."
            )
        spec_code_view(spec, f"{key}_{run.id}", note=note, download=download, changes=changes)


def compared_scripts(runs: list, names: list[str], key: str = "runs_diff") -> None:
    """Under Runs' comparison: how each run's script differs from the first one's."""
    with st.expander("How their Keras scripts differ", icon=":material/difference:"):
        runs_script_diff([run.spec for run in runs], names, key)


# ----- the 2-D playground ------------------------------------------------------------------------


def plane_link(spec_from_state: Callable[[], Any], prefix: str = "xor_") -> None:
    """Top of the 2-D playground: restore a shared link once, then keep the URL on the spec.

    A restored field is written to its widget's key (`prefix` + field name), before the
    widgets are drawn; `spec_from_state` reads the widgets' spec back.
    """

    def apply(spec) -> None:
        for name, value in spec.to_dict().items():
            if value != getattr(PlaneSpec(), name):
                state.set(prefix + name, value)

    restore_link_once(
        "plane",
        lambda params: flat_spec_from_params(params, PlaneSpec, plane_settings.LIMITS),
        apply,
    )
    try:
        spec = spec_from_state()
    except ValueError:  # the page says what is wrong; the URL keeps the last good spec
        return
    link_notice("plane", spec)
    sync_link(flat_spec_to_params(spec))


def plane_code(spec, epochs: int) -> None:
    """The 2-D playground's set-up as a Keras script, in an expander."""
    filename = plane_script_filename(spec)
    with code_expander("Keras code for this set-up", "xor_code_open") as box:
        if not box.open:
            return
        st.caption(
            f"The same points, features and network as a Keras script (`python {filename}`), "
            f"training {epochs} epochs with `model.fit`. The page's own trainer shuffles the "
            "batches its own way, so away from the four XOR points the curves differ in detail."
        )
        code_view(export_plane_script(spec, epochs=epochs), filename, "xor_code")
