"""My digits: the digits kept on Draw, by label, to relabel or delete; exported and imported
as an IDX pair or a Keras-style .npz, so that a class can pool its handwriting."""

import numpy as np
import streamlit as st

from app_pages import state
from app_pages.my_digits_store import my_digits_or_none
from app_pages.text import plain
from core.mydigits.files import IMAGES_FILE, LABELS_FILE, NPZ_FILE, read_upload, to_idx_pair, to_npz
from core.mydigits.records import MyDigitsError

GALLERY_SIZE = 60  # the newest digits of the label shown
TILE_WIDTH = 84  # pixels: the image, its label box and Delete under it
SCALE = 3  # each of the 28x28 pixels as 3x3: 84 px tiles


def say(kind: str, text: str) -> None:
    state.set("mydigits_notice", (kind, text))


def relabel(store, digit_id: str, key: str) -> None:
    try:
        store.relabel(digit_id, state.get(key))
    except MyDigitsError as error:
        say("error", str(error))
    else:
        say("success", f"Relabelled as a {state.get(key)}.")


def delete(store, digit_id: str) -> None:
    if store.delete(digit_id):
        say("success", "Deleted.")
    else:
        say("error", "That digit was already deleted.")


def tile(image28: np.ndarray) -> np.ndarray:
    pixels = np.repeat(np.repeat(image28, SCALE, axis=0), SCALE, axis=1)
    return (255 * np.clip(pixels, 0, 1)).round().astype(np.uint8)


def gallery(store) -> None:
    """The kept digits of one label (or all), newest first, each with its label and Delete."""
    counts = store.counts()
    choice = st.segmented_control(
        "Show",
        ["all", *range(10)],
        format_func=lambda d: (
            f"{d}: {counts.get(d, 0)}" if d != "all" else f"all {sum(counts.values())}"
        ),
        key="mydigits_show",
        **state.KEEP,
    )
    shown = None if choice in (None, "all") else int(choice)
    digits = store.digits(label=shown)[::-1][:GALLERY_SIZE]
    if not digits:
        st.caption("None kept with this label yet.")
        return
    total = sum(counts.values()) if shown is None else counts.get(shown, 0)
    if total > len(digits):
        st.caption(f"The newest {len(digits)} of {total:,}.")
    # Tiles of a fixed width side by side, wrapping to the window (six to a row at 900 px).
    with st.container(horizontal=True, gap="small"):
        for digit in digits:
            with st.container(width=TILE_WIDTH, key=f"mydigits_tile_{digit.id}"):
                st.image(tile(digit.image))
                key = f"mydigits_label_{digit.id}"
                state.set(key, digit.label)
                st.selectbox(
                    "Label",
                    range(10),
                    key=key,
                    on_change=relabel,
                    args=(store, digit.id, key),
                    label_visibility="collapsed",
                )
                st.button(
                    ":material/delete:",
                    key=f"mydigits_delete_{digit.id}",
                    on_click=delete,
                    args=(store, digit.id),
                    help="Delete this digit",
                    width="stretch",
                )


def export_section(store) -> None:
    """Download every kept digit: one .npz (with the canvases), or an IDX pair."""
    digits = store.digit_set(with_canvases=True)
    npz_column, images_column, labels_column = st.columns(3)
    npz_column.download_button(
        ".npz",
        to_npz(digits),
        file_name=NPZ_FILE,
        icon=":material/download:",
        key="mydigits_npz",
        help="x_test: the 28x28 images (float32, 0 to 1), y_test: the labels, created: when "
        "each was kept, canvases: the drawings. np.load reads it.",
        width="stretch",
    )
    images, labels = to_idx_pair(digits)
    images_column.download_button(
        "Images (IDX)",
        images,
        file_name=IMAGES_FILE,
        icon=":material/download:",
        key="mydigits_idx_images",
        help="The 28x28 images as MNIST's IDX format, as float32 (IDX type 0x0D).",
        width="stretch",
    )
    labels_column.download_button(
        "Labels (IDX)",
        labels,
        file_name=LABELS_FILE,
        icon=":material/download:",
        key="mydigits_idx_labels",
        help="The labels as MNIST's IDX format, one unsigned byte each.",
        width="stretch",
    )


def import_files(store) -> None:
    uploads = state.get("mydigits_upload") or []
    try:
        digits = read_upload([(upload.name, upload.getvalue()) for upload in uploads])
        added = store.add_many(digits)
    except MyDigitsError as error:
        say("error", f"{error} Your kept digits are unchanged.")
    else:
        say("success", f"Imported {added:,} digits: {store.count():,} in My digits.")


def import_section(store) -> None:
    """Add the digits of a file: an .npz, or an IDX images file with its labels file."""
    uploads = st.file_uploader(
        "An .npz, or an IDX images file and its labels file",
        accept_multiple_files=True,
        key="mydigits_upload",
    )
    st.button(
        "Import",
        icon=":material/upload:",
        key="mydigits_import",
        on_click=import_files,
        args=(store,),
        disabled=not uploads,
    )


def show_notice() -> None:
    notice = state.pop("mydigits_notice")
    if notice is not None:
        kind, text = notice
        show = st.error if kind == "error" else st.success
        show(plain(text), icon=":material/error:" if kind == "error" else ":material/check:")


state.init()
st.title(":material/gesture: My digits")
store = my_digits_or_none()
if store is None:
    st.stop()
show_notice()
count = store.count()
if count:
    st.caption(
        f"{count:,} digits you kept on Draw, as the network saw them. Evaluate can test a run "
        "on them."
    )
    gallery(store)
else:
    st.info("No digits kept yet: draw one on Draw and press Keep.", icon=":material/info:")
    st.page_link("app_pages/draw.py", label="Go to Draw", icon=":material/draw:")
st.subheader("Share")
if count:
    export_section(store)
import_section(store)
