"""The Draw page's canvas's `json_data` for strokes drawn here, as streamlit-drawable-canvas
(Fabric.js 7) sends it: what core.mnist.strokes reads the paths from."""

from __future__ import annotations


def fabric(*strokes, pen: float = 20, **changes) -> dict:
    """`json_data` as the canvas sends it: one Fabric.js Path per stroke, its points joined
    by quadratic curves (the pointer's positions as control points), as its pencil does."""
    objects = []
    for stroke in strokes:
        points = [tuple(map(float, p)) for p in stroke]
        path = [["M", *points[0]]]
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            path.append(["Q", x0, y0, (x0 + x1) / 2, (y0 + y1) / 2])
        path.append(["L", *points[-1]])
        xs, ys = zip(*points, strict=True)
        objects.append(
            {
                "type": "Path",
                "version": "7.4.0",
                "originX": "center",
                "originY": "center",
                "left": (min(xs) + max(xs)) / 2,
                "top": (min(ys) + max(ys)) / 2,
                "strokeWidth": pen,
                "scaleX": 1,
                "scaleY": 1,
                "angle": 0,
                "skewX": 0,
                "skewY": 0,
                "flipX": False,
                "flipY": False,
                "path": path,
                **changes,
            }
        )
    return {"version": "7.4.0", "objects": objects, "background": "#000000"}
