"""The inside views, drawn where the pages call them: what the network does with one image
(saliency, every hidden layer's activations, what a chosen unit responds to) on Draw and
Evaluate, and the network diagram and training dynamics on Train.

Models, inspectors and rankings are cached per run and model file, like
`run_store.load_run_model`; nothing here keeps a model in a module-level name (see
`training_session.current_job`).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import streamlit as st

from app_pages import state
from app_pages.data_source import get_data
from app_pages.run_picker import shown_run_id
from app_pages.run_store import checked_model_stamp, load_run_model, model_runs
from app_pages.selection import selected_image
from app_pages.training_session import current_job
from core.charts.diagram import diagram_figure
from core.charts.images import digit_grid_figure
from core.charts.inside import (
    MAX_MAPS_SHOWN,
    dense_activations_figure,
    feature_maps_figure,
    norms_figure,
    saliency_figure,
    template_figure,
)
from core.inside.activations import Inspector, ModelChainError
from core.inside.diagram import spec_diagram, weights_diagram
from core.inside.records import LayerInfo
from core.inside.unit_search import TopImages, rank_units

RUNNER_UP, TRUE_DIGIT = -1, -2  # choices of the digit the saliency compares the answer with
COLUMN_WIDTH = 370  # pixels: the width of the left column, where the galleries are drawn
SALIENCY_HELP = (
    "**Integrated gradients.** For every pixel, the app follows the straight path from an average "
    "digit (the mean image of all the 0s in MNIST's training set; then of the 1s, and so on: ten "
    "paths) to this image, and adds up how much that pixel raised the answer's score over the "
    "other digit's (their logits, the scores before the softmax), times how much the pixel "
    "differs from the average digit. The values add up to how much more this image favours the "
    "answer over the other digit than the average digits do, to within 1 % (the steps along "
    "the paths are halved until they do; the page says so if they cannot). For a network "
    "without hidden layers they are exactly its weights times the pixels less the average "
    "digits. **Why not a black image:** some networks read a black image as a digit, sure of "
    "it, and against it a right answer can come out all red. **Limits:** it explains this one "
    "image against the average digits, not what the network does in general."
)
SALIENCY_COLOURS = (
    "Blue pixels pushed the network towards {answer}, red ones towards {other}; clear pixels made "
    "no difference. A pixel counts where it differs from the average digits: ink where they have "
    "little, or none where they have some."
)


def saliency_words(saliency) -> str:
    """What the saliency's numbers say, in words that hold whatever their sign: the two
    scores' difference for the image and for the average digits, and what the pixels' values
    add up to."""
    answer, other, difference = saliency.answer, saliency.other, saliency.difference
    words = (
        f"{answer}'s score less {other}'s: {saliency.margin:.2f} for this image, "
        f"{saliency.baseline_margin:.2f} for the average digits. "
    )
    if abs(difference) < 0.005:
        words += (
            f"This image favours {answer} over {other} as much as they do, so the pixels' values "
            f"add up to about 0 ({saliency.total:.2f})."
        )
    elif difference > 0:
        words += (
            f"The pixels' values add up to the difference, {saliency.total:.2f}: what in this "
            f"image makes it more of a {answer}, and less of a {other}, than the average digits."
        )
    else:
        words += (
            f"The average digits favour {answer} over {other} even more than this image does, "
            f"so the pixels' values add up to a negative number ({saliency.total:.2f}) although "
            f"the answer is {answer}: they show what in this image holds {answer} back against "
            f"{other}, not what makes it a {answer}."
        )
    if not saliency.adds_up:
        words += (
            f" Their sum is {saliency.gap:.0%} off that difference ({difference:.2f}): the paths "
            "would have needed more steps than the page takes."
        )
    return words


@st.cache_resource(max_entries=4, show_spinner="Opening up the network…")
def get_inspector(run_id: str, stamp: float) -> Inspector:
    """The run's `Inspector`, one per model file version (its passes compile once)."""
    model = load_run_model(run_id, stamp)
    if getattr(
        model, "is_baseline", False
    ):  # a scikit-learn baseline (core/experiments/baselines.py)
        raise ModelChainError("a random forest is a vote of decision trees, not layers.")
    return Inspector(model)


@st.cache_resource(max_entries=16, show_spinner="Finding the test digits that excite each unit…")
def top_images_for(run_id: str, stamp: float, data_source: str, position: int) -> TopImages:
    """Each unit's most exciting test digits for one layer, computed once per model."""
    data, _ = get_data()
    inspector = get_inspector(run_id, stamp)
    layer = next(info for info in inspector.layers if info.position == position)
    return rank_units(inspector, data.x_test, layer)


def inside_section(
    run_id: str, stamp: float, image: np.ndarray, key: str, true_digit: int | None = None
) -> None:
    """Saliency, activations and a chosen unit for one (28, 28) image in [0, 1].

    With `true_digit` (a labelled test digit), the saliency compares the answer with the
    true digit by default: for a mistake, why the network chose its answer over the truth.
    """
    st.subheader("Inside the network", anchor=False)
    try:
        inspector = get_inspector(run_id, stamp)
    except ModelChainError as error:
        st.info(f"The inside of this network cannot be shown: {error}", icon=":material/info:")
        return
    other_key = f"{key}_inside_other"
    if state.get(other_key) is None:
        state.set(other_key, RUNNER_UP if true_digit is None else TRUE_DIGIT)
    choice = state.get(other_key)
    other = true_digit if choice == TRUE_DIGIT else None if choice < 0 else choice
    explanation = inspector.explain(image, other)
    # The left column as wide as its galleries are drawn; the right one beside it where there
    # is room (1440 px), under it where there is not (900 px with the sidebar open).
    with st.container(horizontal=True, gap="medium"):
        left, right = st.container(width=COLUMN_WIDTH), st.container(width="stretch")
    with right:  # first: a click on a unit there chooses the unit shown in the left column
        activations_view(explanation.activations, key)
    with left:
        saliency_view(explanation.saliency, other_key, key, true_digit)
        if explanation.activations.layers:
            unit_view(inspector, explanation.activations, run_id, stamp, key)


def saliency_view(saliency, other_key: str, key: str, true_digit: int | None) -> None:
    answer, other = saliency.answer, saliency.other
    st.markdown(f"**Why {answer} and not {other}?**")
    names = {RUNNER_UP: "its runner-up", TRUE_DIGIT: "the true digit"}
    st.selectbox(
        "Compare the answer with",
        [*([TRUE_DIGIT] if true_digit is not None else []), RUNNER_UP, *range(10)],
        format_func=lambda d: names.get(d, f"digit {d}"),
        key=other_key,
        help="The answer compared with itself means nothing: then its runner-up is used.",
    )
    st.plotly_chart(
        saliency_figure(saliency.image, saliency.attributions),
        key=f"{key}_saliency",
        width="stretch",
    )
    st.caption(SALIENCY_COLOURS.format(answer=answer, other=other), help=SALIENCY_HELP)
    st.caption(saliency_words(saliency))


def _layer_figure(output: np.ndarray, info: LayerInfo, strongest: np.ndarray):
    if info.is_map:
        return feature_maps_figure(output, strongest)
    return dense_activations_figure(output, strongest)


def activations_view(activations, key: str) -> None:
    layer_key, unit_key, click_key = (
        f"{key}_inside_layer",
        f"{key}_inside_unit",
        f"{key}_inside_click",
    )
    if not activations.layers:
        st.markdown("**Hidden layers**")
        st.caption(
            "This network has no hidden layer: the pixels go straight to the output, so the "
            "saliency is the whole story."
        )
        return
    st.markdown("**What each hidden layer does with it**")
    st.caption(
        "Each cell is one unit of a hidden layer (each small square a feature map of a "
        "convolutional one): the brighter, the more it fires for this image; orange marks the "
        'five strongest. Click one to see what it responds to in "What one unit responds to".'
    )
    positions = [info.position for info in activations.layers]
    for index, (info, output) in enumerate(
        zip(activations.layers, activations.outputs, strict=True)
    ):
        strongest = activations.strongest(index)
        shown = (
            f", first {MAX_MAPS_SHOWN} of {info.units} maps"
            if info.is_map and info.units > MAX_MAPS_SHOWN
            else ""
        )
        st.markdown(f"{info.label}{shown}")
        event = st.plotly_chart(
            _layer_figure(output, info, strongest),
            on_select="rerun",
            selection_mode="points",
            key=f"{key}_inside_grid_{info.position}",
            width="stretch",
        )
        clicked = selected_image(event.selection) if event else None
        if clicked is not None and state.get(click_key) != (info.position, clicked):
            state.set(click_key, (info.position, clicked))
            state.set(layer_key, info.position)
            state.set(unit_key, clicked + 1)
    if state.get(layer_key) not in positions:
        state.set(layer_key, positions[0])
        state.set(unit_key, int(activations.strongest(0)[0]) + 1)


def unit_view(inspector: Inspector, activations, run_id: str, stamp: float, key: str) -> None:
    layer_key, unit_key = f"{key}_inside_layer", f"{key}_inside_unit"
    by_position = {info.position: info for info in activations.layers}
    st.markdown("**What one unit responds to**")
    layer_col, unit_col = st.columns([3, 1])
    position = layer_col.selectbox(
        "Layer", list(by_position), format_func=lambda p: by_position[p].label, key=layer_key
    )
    info = by_position[position]
    state.set(unit_key, min(max(1, int(state.get(unit_key, 1))), info.units))
    unit = unit_col.number_input("Unit", 1, info.units, key=unit_key) - 1
    value = activations.outputs[activations.layers.index(info)]
    value = float(value[..., unit].max()) if info.is_map else float(value[unit])
    data, _ = get_data()
    ranking = top_images_for(run_id, stamp, data.description, position)
    indices, responses = ranking.for_unit(unit)
    template = inspector.unit_template(info, unit)
    kind = "feature map" if info.is_map else "unit"
    if template is not None:
        what = "its 28x28 weights" if template.shape == (28, 28) else "its filter"
        figure = template_figure(template)
        figure.update_layout(height=300 if template.shape == (28, 28) else 200)
        st.plotly_chart(figure, key=f"{key}_inside_template", width="stretch")
        st.caption(f"What it looks for, {what}: blue raises it, red lowers it.")
    top_col = st.container()
    gallery = digit_grid_figure(
        data.x_test[indices],
        [f"{r:.2g}" for r in responses],
        columns=4,
        hover_texts=[
            f"test image {i} (a {data.y_test[i]}): response {r:.3g}"
            for i, r in zip(indices, responses, strict=True)
        ],
    )
    (bottom, _), (_, right) = gallery.layout.yaxis.range, gallery.layout.xaxis.range
    gallery.update_layout(height=int(COLUMN_WIDTH * (bottom + 0.5) / (right + 0.5)) + 30)
    top_col.plotly_chart(gallery, key=f"{key}_inside_top", width="stretch")
    response = "largest value" if info.is_map else "output"
    silent = " It never fires on any test digit (a dead unit)." if ranking.silent[unit] else ""
    top_col.caption(
        f"The test digits that make {kind} {unit + 1} fire most (its {response} above each); "
        f"for your image it gives {value:.3g}.{silent}"
    )


# --- Train -------------------------------------------------------------------------------


@st.cache_resource(max_entries=4, show_spinner=False)
def _trained_diagram(run_id: str, stamp: float):
    return weights_diagram(load_run_model(run_id, stamp))


def _trained_run():
    """The run the pages show (the one this session trained last, or chosen on Evaluate or
    Runs), else the newest one with a saved model; None before any."""
    runs = model_runs()
    chosen = shown_run_id()
    return next((run for run in runs if run.id == chosen), runs[0] if runs else None)


AS_BUILT = "As built"


def network_key(spec) -> str:
    """A short digest of the layers the controls describe (None: layers that do not fit)."""
    layers = json.dumps(spec.layers if spec is not None else None, sort_keys=True)
    return hashlib.sha1(layers.encode()).hexdigest()[:12]


def train_inside(spec) -> None:
    """The network diagram (as built, or a trained run's weights) and the training dynamics."""
    st.markdown("**The network**")
    run = _trained_run()
    view = AS_BUILT
    # In a container of its own: the choice appears once a run has a model (at the end of the
    # first run), and the diagram after it keeps its place instead of being drawn anew.
    with st.container():
        if run is not None:
            # Keyed by the network the controls describe: a new one (a preset, a layer slider)
            # brings the diagram back to it, never leaving another run's weights beside it.
            view = (
                st.segmented_control(
                    "Diagram",
                    [AS_BUILT, f"Trained weights of run #{run.number}"],
                    default=AS_BUILT,
                    key=f"train_inside_diagram_{network_key(spec)}",
                    label_visibility="collapsed",
                )
                or AS_BUILT
            )
    if view == AS_BUILT:
        if spec is None:
            st.caption("Fix the network's layers to see it.")
        else:
            diagram = spec_diagram(spec)
            st.plotly_chart(diagram_figure(diagram), key="train_diagram", width="stretch")
            st.caption(
                "Your digit enters on the left, goes through each layer in turn, and the output "
                "gives a score to each digit. " + diagram.note
            )
    else:
        trained_diagram_view(run, spec)
    job = current_job()
    if job is None:
        return
    from core.inside.dynamics import norm_log  # TensorFlow: only once this session has trained

    if norm_log(job) is not None:  # no norms recorded: no view, no timer
        st.fragment(run_every=1.0 if job.running else None)(dynamics_view)()


def trained_diagram_view(run, spec) -> None:
    """The run's trained network, said plainly to be another network than the controls' if
    it is one."""
    stamp = checked_model_stamp(run.id)
    if stamp is None:
        return
    if spec is None or run.architecture != spec.architecture():
        yours = f" ({spec.architecture()})" if spec is not None else ""
        st.info(
            f"This is run #{run.number}'s network, {run.architecture}: not the one the controls "
            f"describe{yours}. **{AS_BUILT}** draws yours.",
            icon=":material/info:",
        )
    diagram = _trained_diagram(run.id, stamp)
    st.plotly_chart(diagram_figure(diagram), key="train_weights_diagram", width="stretch")
    st.caption(f"Run #{run.number}'s strongest connections, as trained. " + diagram.note)


def dynamics_view() -> None:
    """Each layer's weight and gradient norms, while the session's run trains and after."""
    job = current_job()
    if job is None:
        return
    from core.inside.dynamics import norm_log  # TensorFlow: only once this session has trained

    log = norm_log(job)
    if log is None:
        return
    history = log.snapshot()
    if history.empty:
        return
    st.markdown("**Training dynamics**")
    figure = norms_figure(history, epochs=job.spec.epochs)
    st.plotly_chart(figure, key="train_norms", width="stretch")
    st.caption(
        "How big each layer's weights are, and how strongly the loss pulls on them (the "
        "gradient), measured on 128 training digits: gradients far smaller in the first layers "
        "than the last mean they learn slowly (vanishing), norms shooting up mean the learning "
        "rate is too high."
    )


def dynamics_callbacks(data) -> list:
    """The callbacks a run needs for the dynamics view: none unless the toggle is on."""
    if not state.get("train_inside_dynamics") or data is None:
        return []
    from core.inside.dynamics import LayerNorms, NormLog  # TensorFlow: only when asked for

    return [LayerNorms(NormLog(), data.x_train, data.y_train)]


def dynamics_toggle(disabled: bool = False) -> None:
    st.toggle(
        "Record weight and gradient norms",
        key="train_inside_dynamics",
        disabled=disabled,
        help="Measures each layer's weights and gradients up to four times per epoch on 128 "
        "training digits; costs under 5 % of the training time (bench/inside.py).",
    )
