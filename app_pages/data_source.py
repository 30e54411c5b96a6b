"""The MNIST files this session trains and tests on: loaded once per server, named on the pages."""

from __future__ import annotations

import streamlit as st

from app_pages import state
from app_pages.text import plain
from core.mnist.data import MNIST, DataError, load_mnist


@st.cache_resource(max_entries=2, show_spinner="Loading MNIST…")
def _load(path: str) -> MNIST:
    # cache_resource, not cache_data: the arrays are read-only and large, and every page
    # rerun would otherwise unpickle a fresh copy of them.
    return load_mnist(path or None)


def get_data() -> tuple[MNIST | None, str | None]:
    """The data set this session uses, or None and the message saying what is wrong."""
    path = state.get("data_path")
    try:
        return _load(path), None
    except DataError as error:
        return None, str(error)
    except OSError as error:  # what core.mnist.data does not expect: still no traceback
        return None, f"The files in {path or 'the default place'} cannot be read ({error})."


def show_data_source(data: MNIST | None, error: str | None) -> None:
    """One line naming the data, a warning for the small sample, or the error."""
    if error:
        st.error(f"**The data could not be loaded.** {plain(error)}", icon=":material/error:")
    elif data is not None and data.is_sample:
        st.warning(
            f"**{plain(data.description)}.** No MNIST files were found and Keras could not download "
            "them, so this runs on a small sample: accuracies here are not comparable with "
            "published MNIST results. Point the app at the MNIST files below to use the full set.",
            icon=":material/science:",
        )
    elif data is not None:
        st.caption(f":material/database: {plain(data.description)}")


def data_source_panel() -> None:
    """Home's panel: the data in use and a form to point the app at other files."""
    data, error = get_data()
    show_data_source(data, error)
    with st.expander("Data source", expanded=bool(error)):
        st.markdown(
            "By default the app uses Keras's own copy of MNIST (downloaded once into "
            "`~/.keras/datasets`). To use files you have, give a folder holding the four IDX "
            "files (`train-images-idx3-ubyte.gz`, …) or an `mnist.npz`. With neither and no "
            "network, it falls back to a labelled 5,000-digit sample."
        )
        with st.form("home_data_form", border=False):
            path = st.text_input(
                "Folder or .npz file", value=state.get("data_path"), key="home_data_path"
            )
            if st.form_submit_button("Use these files"):
                state.set("data_path", path.strip())
                st.rerun()
