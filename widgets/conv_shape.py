"""Conv shape explorer: the shape arithmetic of convolutional layers, seen three ways.

- "one layer": the padded input, the filter at one position (a slider moves it across) and the output, drawn as
  grids, for the W, C, F, S, P, K on the sliders; a layer whose stride does not fit is drawn as such (the columns
  no position covers, red where they are input and lost, faint red where they are only zero padding; the position
  that overhangs), with the formula and its numbers on the plot.
- "a network": three conv blocks (each with an optional max pool) whose hyperparameters are on controls: their
  volumes drawn to scale, the receptive field of each layer's centre unit drawn where it lies on the input
  (overhanging it where it counts zero padding), and a live table of output shapes, parameters, activation memory
  and receptive fields with the totals.
- "trained on digits": the filters and feature maps of a small ConvNet trained on the shipped 8x8 digits, at
  several points of its training.
"""
from __future__ import annotations

import html
import textwrap

import ipywidgets as W
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from course import checks, conv
from course.experiments.cnn import (DIGITS_ITERATIONS, POOLS, STAGES, feature_maps, layer_geometry, network_table,
                                    train_digits_convnet)
from widgets.explorer import Choice, Explorer, new_figure, prefer_student, themed

VIEWS = ("one layer", "a network", "trained on digits")
SIDE = 0.86  # the front sheet of a volume spans [0, SIDE] in its axes; the sheets behind it take the rest
SHEET_STEP = 0.02
MAX_SHEETS = 8  # sheets drawn for a depth (the first one is the front sheet)
MAX_GRID_LINES = 40  # cells per side up to which every cell is outlined
BLOCKS = 3
MESSAGE_WIDTH = 120  # characters of a message line


def _network(F: int, P: int, depths: tuple, pool: str) -> dict:
    """The controls of the network view for three stride-1 blocks of F x F filters, padding P, the given depths
    and the same pool after each, on a 32 x 32 x 3 input."""
    blocks = {f"conv{i}_{key}": value for i, K in enumerate(depths, start=1)
              for key, value in dict(F=F, S=1, P=P, K=K).items()}
    return dict(view="a network", net_W=32, net_C=3, **blocks, **{f"pool{i}": pool for i in range(1, BLOCKS + 1)})


PRESETS = {
    "AlexNet's first layer: 227x227x3, 96 11x11 filters, stride 4": dict(
        view="one layer", W=227, C=3, F=11, S=4, P=0, K=96, position=0),
    "a stride that does not fit: W=7, F=3, S=3": dict(view="one layer", W=7, C=1, F=3, S=3, P=0, K=1, position=0),
    "'same' padding: 3x3 filters, P=1 keeps 8x8": dict(view="one layer", W=8, C=3, F=3, S=1, P=1, K=4, position=0),
    "receptive field: three 3x3 convs": _network(3, 1, (16, 16, 16), "none"),
    "a small CIFAR-10 net: conv5-16, conv5-20, conv5-20, each pooled": _network(5, 2, (16, 20, 20), "2x2 stride 2"),
    "trained filters and feature maps": dict(view="trained on digits", iterations=DIGITS_ITERATIONS[-1], digit=0,
                                             stage="relu"),
}


def _opaque(color, alpha: float, background) -> np.ndarray:
    """``color`` at ``alpha`` over ``background``, as an opaque RGBA colour (overlapping sheets hide each other):
    (4,) uint8."""
    front, back = np.array(to_rgba(color)), np.array(to_rgba(background))
    mixed = alpha * front + (1 - alpha) * back
    mixed[3] = 1.0
    return np.round(255 * mixed).astype(np.uint8)


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _grid_segments(cells: int, cell: float, top: float) -> list:
    """Outlines of a cells x cells grid of squares of side ``cell`` hanging from (0, top); only the border when
    there are too many cells to outline."""
    lines = range(cells + 1) if cells <= MAX_GRID_LINES else (0, cells)
    bottom, right = top - cells * cell, cells * cell
    return ([[(k * cell, bottom), (k * cell, top)] for k in lines]
            + [[(0, top - k * cell), (right, top - k * cell)] for k in lines])


class Volume:
    """A volume drawn in a square axes: its front sheet, a cells x cells grid hanging from the top left corner,
    shown as an RGBA image with outlined cells, and up to MAX_SHEETS - 1 sheets behind it for its depth."""

    def __init__(self, ax, color):
        self.sheets = PolyCollection([], facecolors=[_opaque(color, 0.15, ax.get_facecolor()) / 255],
                                     edgecolors=[color], linewidths=0.8, zorder=1)
        ax.add_collection(self.sheets)
        self.image = ax.imshow(np.zeros((1, 1, 4)), extent=(0, SIDE, 0, SIDE), interpolation="nearest", zorder=2)
        self.grid = LineCollection([], colors="grey", linewidths=0.5, zorder=3)
        ax.add_collection(self.grid)
        ax.set_xlim(-0.01, 1.01)  # room for the outermost grid lines
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_axis_off()
        self.cell = SIDE

    def show(self, rgba: np.ndarray, grid_cells: int, depth: int) -> None:
        """Show ``rgba`` (m, m, 4) over the front sheet, outline its first ``grid_cells`` cells per side, and draw
        the sheets of ``depth`` behind a front sheet of that many cells."""
        self.cell = SIDE / rgba.shape[0]
        self.image.set_data(rgba)
        self.grid.set_segments(_grid_segments(grid_cells, self.cell, SIDE))
        size = grid_cells * self.cell
        corners = np.array([(0, SIDE - size), (size, SIDE - size), (size, SIDE), (0, SIDE)])
        self.sheets.set_verts([corners + k * SHEET_STEP for k in range(min(depth, MAX_SHEETS) - 1, 0, -1)])

    def place(self, rect: Rectangle, row: float, col: float, rows: float, cols: float) -> None:
        """Put ``rect`` over the cells from (row, col), rows x cols of them (0, 0 is the top left cell)."""
        rect.set_bounds(col * self.cell, SIDE - (row + rows) * self.cell, cols * self.cell, rows * self.cell)

    @property
    def artists(self) -> list:
        return [self.sheets, self.image, self.grid]


class LayerView:
    """One conv layer: the padded input with the filter at one position, and the output it builds."""

    uses = ("conv_output_size",)  # the labels of the explorer's choices its update takes, in order

    def __init__(self, fig, colors):
        self.colors = colors
        ax_in = fig.add_axes([0.02, 0.11, 0.44, 0.7])
        ax_out = fig.add_axes([0.54, 0.11, 0.44, 0.7])
        ax_in.set_title("input, zero padding (grey), the filter (dashed: next)\ncovered by no position: red if "
                        "input, faint red if padding", fontsize=9)
        ax_out.set_title("output: one sheet per filter\n(filled: the positions visited so far)", fontsize=9)
        self.input, self.output = Volume(ax_in, "C0"), Volume(ax_out, "C1")
        self.window = Rectangle((0, 0), 0, 0, facecolor=to_rgba("C1", 0.45), edgecolor="C1", lw=2, zorder=4)
        self.next_window = Rectangle((0, 0), 0, 0, fill=False, edgecolor="C1", lw=1.2, ls="--", zorder=4)
        self.overhang = Rectangle((0, 0), 0, 0, fill=False, edgecolor="C3", hatch="///", lw=1.5, zorder=4)
        self.input_border = Rectangle((0, 0), 0, 0, fill=False, edgecolor="C0", lw=1.5, zorder=4)
        for patch in (self.window, self.next_window, self.overhang, self.input_border):
            ax_in.add_patch(patch)
        self.output_cell = Rectangle((0, 0), 0, 0, fill=False, edgecolor="C1", lw=2, zorder=4)
        ax_out.add_patch(self.output_cell)
        self.formula = fig.text(0.5, 0.93, "", ha="center", va="center", fontsize=11)
        self.text_color = self.formula.get_color()  # the theme's (the explorer is built inside its style)
        self.fits = 0
        self.axes = [ax_in, ax_out]
        self.artists = [*self.input.artists, *self.output.artists, self.window, self.next_window, self.overhang,
                        self.input_border, self.output_cell, self.formula]  # sizes: in the readout (text is slow)

    def update(self, c: dict, funcs: tuple, colors: tuple) -> tuple[str, str, bool]:
        """Draw the layer of the controls' values ``c`` with ``funcs`` = (conv_output_size,) and ``colors`` = (warning
        colour, error colour); returns (readout html, the problem in a line, whether it is an error: input lost).
        ``fits`` is then the positions per axis that fit."""
        g = layer_geometry(c["W"], c["F"], c["S"], c["P"], funcs[0])
        self.fits = g.fits
        W_, F, S, P, C, K = c["W"], c["F"], c["S"], c["P"], c["C"], c["K"]
        n = g.padded
        m = n if g.valid else max(n, g.fits * S + F)  # room for the first position that does not fit
        rgba = np.zeros((m, m, 4), dtype=np.uint8)
        rgba[:n, :n] = self.colors["padding"]
        rgba[P:P + W_, P:P + W_] = self.colors["input"]
        if not g.valid and g.fits:
            covered = (g.fits - 1) * S + F
            index = np.arange(n)
            uncovered = (index[:, None] >= covered) | (index[None, :] >= covered)
            inside = (index >= P) & (index < P + W_)
            is_input = inside[:, None] & inside[None, :]
            rgba[:n, :n][uncovered & is_input] = self.colors["lost"]
            rgba[:n, :n][uncovered & ~is_input] = self.colors["unused padding"]
        self.input.show(rgba, n, C)
        self.input.place(self.input_border, P, P, W_, W_)

        position = min(c["position"], max(g.fits ** 2 - 1, 0))
        i, j = divmod(position, g.fits) if g.fits else (0, 0)
        self.input.place(self.window, i * S, j * S, F, F)
        self.window.set_visible(g.fits > 0)
        self.next_window.set_visible(j + 1 < g.fits)
        self.input.place(self.next_window, i * S, (j + 1) * S, F, F)
        self.overhang.set_visible(not g.valid)
        self.overhang.set_edgecolor("C3" if g.loses_input else "grey")
        self.input.place(self.overhang, i * S, g.fits * S, F, F)  # at (0, 0) when the filter fits nowhere

        out = g.size if g.valid else g.fits
        cells = np.zeros((max(out, 1), max(out, 1), 4), dtype=np.uint8)
        if out:
            kind = "floored" if g.loses_input else "out"
            cells[:out, :out] = self.colors[f"{kind}_todo"]
            cells.reshape(-1, 4)[:position] = self.colors[f"{kind}_done"]
            cells[i, j] = self.colors[f"{kind}_now"]
        self.output.show(cells, out, K if out else 1)
        self.output.place(self.output_cell, i, j, 1, 1)
        self.output_cell.set_visible(out > 0)

        warning_color, error_color = colors
        verdict = ("" if g.valid else "   ✗ fits nowhere" if not g.fits else
                   "   ✗ not whole: input lost" if g.loses_input else "   ✗ not whole, but no input lost")
        self.formula.set_text(g.formula + verdict)
        self.formula.set_color(self.text_color if g.valid else error_color if g.loses_input else warning_color)
        params = conv.conv_param_count(F, C, K)
        readout = (f"input {W_}×{W_}×{C}, padded to {n}×{n} &nbsp;→&nbsp; output <b>{out}×{out}×{K}</b> = "
                   f"{out * out * K:,} activations &nbsp;·&nbsp; parameters (F·F·C + 1)·K = ({F}·{F}·{C} + 1)·{K} = "
                   f"<b>{params:,}</b> &nbsp;·&nbsp; each output sees {F}×{F}×{C} inputs")
        if g.fits:
            readout += (f" &nbsp;·&nbsp; position {position + 1} of {g.fits ** 2}: rows {i * S}–{i * S + F - 1}, "
                        f"columns {j * S}–{j * S + F - 1} of the padded input → output ({i}, {j})")
        if not g.fits:
            readout = (f"<span style='color: {error_color}'>not a valid layer</span>: the filter is wider than the "
                       "padded input &nbsp;·&nbsp; " + readout)
        elif g.loses_input:
            lost = "column and row" if g.lost == 1 else f"{g.lost} columns and rows"
            readout = (f"<span style='color: {error_color}'>not a valid layer, and input is lost</span>: a library "
                       f"that floors the formula would make {out}×{out} outputs and never see the red cells, the "
                       f"last {lost} of the input &nbsp;·&nbsp; " + readout)
        elif not g.valid:
            readout = (f"<span style='color: {warning_color}'>not whole, so the course's conv_output_size refuses "
                       f"it, but no input is lost</span>: the uncovered cells (faint red) are zero padding; a library "
                       f"that floors the formula makes {out}×{out} outputs that cover every input pixel (padding {P} "
                       f"before, {P - g.uncovered} after) &nbsp;·&nbsp; " + readout)
        brief = g.problem if not g.fits else \
            f"the stride S = {S} does not divide W − F + 2P = {W_ - F + 2 * P}: {g.leftover}" if not g.valid else ""
        return readout, brief, g.loses_input


class NetworkView:
    """A few conv blocks: their volumes to scale, their receptive fields on the input, and a live table."""

    SLOTS = ("input", *(f"{kind}{i}" for i in range(1, BLOCKS + 1) for kind in ("conv", "pool")))
    uses = ()

    def __init__(self, fig):
        ax_vol = fig.add_axes([0.02, 0.14, 0.62, 0.74])
        ax_rf = fig.add_axes([0.68, 0.14, 0.3, 0.68])
        ax_vol.set_xlim(0, len(self.SLOTS))
        ax_vol.set_ylim(0, 1)
        ax_vol.set_axis_off()
        ax_vol.set_title("each layer's output: height ∝ H, width ∝ √depth", fontsize=9)
        self.boxes = [Rectangle((0, 0), 0, 0, lw=1.2, zorder=2) for _ in self.SLOTS]
        for k, (name, box) in enumerate(zip(self.SLOTS, self.boxes)):
            ax_vol.add_patch(box)
            ax_vol.text(k + 0.5, 0.02, name, ha="center", va="bottom", fontsize=8)
        self.shapes = [ax_vol.text(k + 0.5, 0.09, "", ha="center", va="bottom", fontsize=8)
                       for k in range(len(self.SLOTS))]
        ax_rf.set_xlim(-0.35, 1.35)
        ax_rf.set_ylim(-0.35, 1.35)
        ax_rf.set_aspect("equal")
        ax_rf.set_axis_off()
        ax_rf.set_title("centre unit of each layer: its\nreceptive field on the input (grey)\n"
                        "dotted: pools; beyond grey: padding", fontsize=9)
        ax_rf.add_patch(Rectangle((0, 0), 1, 1, facecolor=to_rgba("grey", 0.3), edgecolor="grey"))
        self.fields = [Rectangle((0, 0), 0, 0, fill=False, lw=1.5, zorder=3) for _ in self.SLOTS[1:]]
        for field in self.fields:
            ax_rf.add_patch(field)
        self.axes = [ax_vol, ax_rf]
        self.artists = [*self.boxes, *self.shapes, *self.fields]

    def update(self, c: dict, funcs: tuple, colors: tuple) -> tuple[str, str, bool]:
        """Draw the network of the controls' values ``c`` (``funcs`` is empty: the table uses course.conv);
        returns (readout html, the problem in a line, True: a block that does not fit stops the table)."""
        blocks = [dict(F=c[f"conv{i}_F"], S=c[f"conv{i}_S"], P=c[f"conv{i}_P"], K=c[f"conv{i}_K"],
                       pool=c[f"pool{i}"]) for i in range(1, BLOCKS + 1)]
        table = network_table((c["net_C"], c["net_W"], c["net_W"]), blocks)
        rows = dict(zip(table.names, table.rows))
        centre = dict(zip(table.names, table.centre_rows))
        tallest = max(r["output_shape"][1] for r in table.rows)
        deepest = max(r["output_shape"][0] for r in table.rows)
        for k, name in enumerate(self.SLOTS):
            box, shape = self.boxes[k], self.shapes[k]
            color = "grey" if name == "input" else f"C{int(name[-1]) - 1}"
            row = rows.get(name)
            box.set_visible(row is not None or name == table.failed)
            if row is not None:
                depth, H, W_ = row["output_shape"]
                height, width = 0.62 * H / tallest, 0.1 + 0.7 * np.sqrt(depth / deepest)
                box.set(bounds=(k + 0.5 - width / 2, 0.2 + (0.7 - height) / 2, width, height), hatch=None,
                        facecolor=to_rgba(color, 0.25 if name.startswith("pool") else 0.6), edgecolor=color)
                shape.set_text(f"{H}×{W_}×{depth}")
            elif name == table.failed:
                box.set(bounds=(k + 0.2, 0.3, 0.6, 0.5), facecolor="none", edgecolor=colors[1], hatch="///")
                shape.set_text("✗")
            else:
                shape.set_text("no pool" if name.startswith("pool") and c[name] == "none" else "?")
            if k:
                field = self.fields[k - 1]
                field.set_visible(row is not None)
                if row is not None:  # rows and columns alike: the input is square; row 0 at the top
                    first, last = centre[name]
                    side = (last - first + 1) / c["net_W"]
                    field.set(bounds=(first / c["net_W"], 1 - (last + 1) / c["net_W"], side, side), edgecolor=color,
                              linestyle=":" if name.startswith("pool") else "-")
        return self._table(table), table.brief, True

    @staticmethod
    def _table(table) -> str:
        """The rows and their totals as an HTML table (the browser renders it: it costs the figure nothing)."""
        def row(*cells) -> str:
            return "<tr>" + "".join(f"<td style='text-align: right; padding: 0 0.8em'>{c}</td>" for c in cells) \
                + "</tr>"

        lines = [row(*(f"<b>{h}</b>" for h in ("layer", "output H×W×depth", "parameters", "activations",
                                                "memory (float32)", "receptive field", "centre unit sees rows")))]
        for name, r, (first, last) in zip(table.names, table.rows, table.centre_rows):
            depth, *size = r["output_shape"]
            lines.append(row(name, "×".join(map(str, (*size, depth))), f"{r['params']:,}", f"{r['floats']:,}",
                             _bytes(r["bytes"]), "×".join(map(str, r["receptive_field"])),
                             f"{first} to {last}".replace("-", "−")))
        total = sum(r["bytes"] for r in table.rows)
        lines.append(row("<b>total</b>", "", f"<b>{table.total_params:,}</b>", f"<b>{table.total_floats:,}</b>",
                         f"<b>{_bytes(total)}</b>", "", ""))
        stop = (f"<br>stopped: {html.escape(table.problem)}<br>not computed: "
                f"{html.escape(', '.join(table.pending)) or 'nothing'}" if table.failed else "")
        return (f"<table>{''.join(lines)}</table>one image, forward pass; ReLUs applied in place. A receptive field "
                "counts zero padding: the centre unit (row and column (H − 1)//2 of its layer) sees the rows given, "
                f"those below 0 or above {table.rows[0]['output_shape'][1] - 1} being padding{stop}")


class DigitsView:
    """A ConvNet trained on the 8x8 digits: a validation digit, its class probabilities, the first layer's
    filters and that digit's feature maps, at one of the kept training iterations."""

    uses = ("conv forward", "max pool forward")

    def __init__(self, fig, training):
        self.training = training
        count, _, size, _ = training.snapshots[0]["W1"].shape
        self.ax_digit = fig.add_axes([0.02, 0.42, 0.17, 0.34])
        self.digit = self.ax_digit.imshow(np.zeros((8, 8)), cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
        self.ax_digit.set_axis_off()
        self.ax_digit.set_title("a validation digit", fontsize=9)
        self.ax_probs = fig.add_axes([0.03, 0.1, 0.16, 0.2])
        self.bars = self.ax_probs.bar(np.arange(10), np.zeros(10), color="C0")
        self.ax_probs.set_ylim(0, 1)
        self.ax_probs.set_xticks(np.arange(10))
        self.ax_probs.set_yticks([0, 1])
        self.ax_probs.tick_params(labelsize=7, length=2)
        self.ax_probs.set_title("class probabilities", fontsize=8)
        self.ax_filters = fig.add_axes([0.24, 0.5, 0.74, 0.3])
        self.ax_maps = fig.add_axes([0.24, 0.08, 0.74, 0.3])
        self.ax_filters.set_title(f"the {count} first-layer filters, {size}×{size} (red +, blue −; each scaled "
                                  "to its largest |w|)", fontsize=9)
        self.ax_maps.set_title("the digit's feature maps, one per filter (each scaled to its largest |value|)",
                               fontsize=9)
        maps = {"cmap": "coolwarm", "vmin": -1, "vmax": 1, "interpolation": "nearest", "aspect": "equal"}
        self.filters = self.ax_filters.imshow(np.zeros((1, 1)), **maps)
        self.maps = self.ax_maps.imshow(np.zeros((1, 1)), **maps)
        for ax in (self.ax_filters, self.ax_maps):
            ax.set_xlim(0, count)
            ax.set_ylim(0, 1)
            ax.set_axis_off()
        self.axes = [self.ax_digit, self.ax_probs, self.ax_filters, self.ax_maps]
        self.artists = [self.digit, *self.bars, self.filters, self.maps]

    @staticmethod
    def mosaic(tiles: np.ndarray) -> np.ndarray:
        """(T, s, s) tiles, each scaled by its largest |value| to [-1, 1], side by side with a transparent
        (NaN) column between them: (s, T*(s+1) - 1)."""
        T, s, _ = tiles.shape
        scale = np.abs(tiles).reshape(T, -1).max(axis=1)
        tiles = tiles / np.where(scale > 0, scale, 1)[:, None, None]
        row = np.full((s, T, s + 1), np.nan)
        row[:, :, :s] = tiles.transpose(1, 0, 2)
        return row.reshape(s, -1)[:, :-1]

    def _show(self, image, tiles: np.ndarray) -> None:
        """Tile k spans x from k to k + s/(s+1), whatever the tile size s, so filters and maps line up."""
        s = tiles.shape[1]
        image.set_data(self.mosaic(tiles))
        image.set_extent((0, (tiles.shape[0] * (s + 1) - 1) / (s + 1), 0, s / (s + 1)))

    def update(self, c: dict, funcs: tuple, colors: tuple) -> tuple[str, str, bool]:
        """Draw the digits view with ``funcs`` = (conv forward, max pool forward)."""
        conv_forward, max_pool_forward = funcs
        t = self.training
        params = t.snapshot(c["iterations"])
        x, label = t.X_val[c["digit"]], int(t.y_val[c["digit"]])
        self.digit.set_data(x[0])
        probs = t.probabilities(c["iterations"], x[None])[0]
        for bar, p in zip(self.bars, probs):
            bar.set_height(p)
        self._show(self.filters, params["W1"][:, 0])
        self._show(self.maps, feature_maps(params, x, c["stage"], conv_forward, max_pool_forward))
        predicted = int(np.argmax(probs))
        accuracy = t.val_accuracy[t.iterations.index(c["iterations"])]
        after = {"conv": "the convolution", "relu": "conv + ReLU", "pool": "conv + ReLU + 2×2 max pool"}[c["stage"]]
        readout = (f"after <b>{c['iterations']}</b> training iterations: validation accuracy <b>{accuracy:.0%}</b>"
                   f" &nbsp;·&nbsp; this digit: label <b>{label}</b>, predicted <b>{predicted}</b> "
                   f"(probability {probs[predicted]:.0%}) &nbsp;·&nbsp; feature maps after {after}")
        return readout, "", False


class ConvShapeExplorer(Explorer):
    """The conv shape explorer (see the module docstring). ``controls["view"]`` picks the view; each view's
    controls are shown (and enabled) only while it is picked:

    - one layer: ``W``, ``C``, ``F``, ``S``, ``P``, ``K``, ``position`` (of the filter, row by row)
    - a network: ``net_W``, ``net_C``, and for i = 1..3 ``conv{i}_F``, ``conv{i}_S``, ``conv{i}_P``,
      ``conv{i}_K``, ``pool{i}`` (a key of course.experiments.cnn.POOLS)
    - trained on digits: ``iterations`` (kept training iterations), ``digit`` (a validation image), ``stage``

    Views: ``layer`` (:class:`LayerView`: ``input`` and ``output`` volumes, ``window``, ``next_window``,
    ``overhang``, ``formula``), ``network`` (:class:`NetworkView`: ``boxes``, ``shapes``, ``fields``), ``digits``
    (:class:`DigitsView`: ``digit``, ``bars``, ``filters``, ``maps``). The table of the network and the live
    numbers are in ``readout``. ``choices`` holds the functions in use: "conv_output_size" (one layer),
    "conv forward" and "max pool forward" (the feature maps).
    """

    def __init__(self, conv_output_size=None, conv_forward=None, max_pool_forward=None, view: str = "one layer",
                 scale: float = 1.0):
        if view not in VIEWS:
            raise ValueError(f"view must be one of {list(VIEWS)}; got {view!r}")
        self.choices = {}
        for label, student, reference, check in (
                ("conv_output_size", conv_output_size, conv.conv_output_size, checks.check_conv_output_size),
                ("conv forward", conv_forward, conv.conv_forward, checks.check_conv_forward_naive),
                ("max pool forward", max_pool_forward, conv.max_pool_forward,
                 checks.check_max_pool_forward_naive)):
            name = reference.__name__
            self.choices[label] = (Choice(label, (reference,), "") if student is None else
                                   prefer_student(label, (student,), (reference,), name, check.evaluate(student)))
        self.training = train_digits_convnet()
        self._view_controls = dict(zip(VIEWS, (self._layer_controls(), self._network_controls(),
                                                self._digits_controls())))
        controls = {"view": W.ToggleButtons(options=VIEWS, value=view, description="view")}
        for view_controls in self._view_controls.values():
            controls.update(view_controls)
        fig, _ = new_figure(figsize=(8, 4), scale=scale)
        fig.axes[0].remove()
        super().__init__(fig, controls, PRESETS)
        colors = self._colors()
        self.layer = LayerView(fig, colors)
        self.network = NetworkView(fig)
        self.digits = DigitsView(fig, self.training)
        self.views = dict(zip(VIEWS, (self.layer, self.network, self.digits)))
        for v in self.views.values():
            self.animate(*v.artists)
        self._boxes = self._control_boxes()
        self._shown = None
        self._syncing = False
        self.observe(self.update)
        self.safely(self.update)()

    # --- controls -----------------------------------------------------------------------------------------------
    @staticmethod
    def _layer_controls() -> dict:
        return {
            "W": W.IntSlider(value=7, min=1, max=256, description="W (input width)"),
            "C": W.IntSlider(value=3, min=1, max=64, description="C (input depth)"),
            "F": W.IntSlider(value=3, min=1, max=15, description="F (filter)"),
            "S": W.IntSlider(value=2, min=1, max=8, description="S (stride)"),
            "P": W.IntSlider(value=1, min=0, max=8, description="P (padding)"),
            "K": W.IntSlider(value=2, min=1, max=128, description="K (filters)"),
            "position": W.IntSlider(value=0, min=0, max=15, description="filter position"),
        }

    @staticmethod
    def _network_controls() -> dict:
        controls = {"net_W": W.IntSlider(value=32, min=4, max=256, description="input W = H"),
                    "net_C": W.IntSlider(value=3, min=1, max=64, description="input depth")}
        for i, K in zip(range(1, BLOCKS + 1), (16, 20, 20)):
            controls.update({
                f"conv{i}_F": W.IntSlider(value=5, min=1, max=11, description="F"),
                f"conv{i}_S": W.IntSlider(value=1, min=1, max=4, description="S"),
                f"conv{i}_P": W.IntSlider(value=2, min=0, max=5, description="P"),
                f"conv{i}_K": W.IntSlider(value=K, min=1, max=256, description="K"),
                f"pool{i}": W.Dropdown(options=list(POOLS), value="2x2 stride 2", description="then pool"),
            })
        return controls

    def _digits_controls(self) -> dict:
        return {
            "iterations": W.SelectionSlider(options=self.training.iterations, value=self.training.iterations[-1],
                                            description="training iterations"),
            "digit": W.IntSlider(value=0, min=0, max=len(self.training.y_val) - 1, description="validation digit"),
            "stage": W.ToggleButtons(options=STAGES, value="relu", description="feature maps after"),
        }

    def _control_boxes(self) -> dict:
        """One box of controls per view (each with its own layout, which hides or shows it)."""
        c = self.controls
        rows = []
        for i in range(1, BLOCKS + 1):
            row = [c[f"conv{i}_{k}"] for k in "FSPK"] + [c[f"pool{i}"]]
            for control in row:
                control.layout = W.Layout(width="220px")
            rows.append(W.HBox([W.Label(f"conv{i}", layout=W.Layout(width="45px")), *row]))
        return {
            "one layer": W.HBox(list(self._view_controls["one layer"].values()),
                                layout=W.Layout(flex_flow="row wrap")),
            "a network": W.VBox([W.HBox([c["net_W"], c["net_C"]]), *rows]),
            "trained on digits": W.HBox(list(self._view_controls["trained on digits"].values()),
                                        layout=W.Layout(flex_flow="row wrap")),
        }

    def controls_box(self) -> W.Box:
        return W.VBox([self.controls["view"], *self._boxes.values()])

    def _colors(self) -> dict:
        background = self.fig.get_facecolor()
        blend = lambda color, alpha: _opaque(color, alpha, background)  # noqa: E731
        return {"input": blend("C0", 0.35), "padding": blend("grey", 0.35), "lost": blend("C3", 0.7),
                "unused padding": blend("C3", 0.4),
                "out_todo": blend("C1", 0.08), "out_done": blend("C1", 0.3), "out_now": blend("C1", 0.8),
                "floored_todo": blend("grey", 0.1), "floored_done": blend("grey", 0.3),
                "floored_now": blend("grey", 0.6)}  # RGBA as uint8: images draw faster

    def _show_view(self, view: str) -> None:
        """Show the axes, artists and controls of ``view`` only; the static layer is redrawn."""
        if view == self._shown:
            return
        for name, v in self.views.items():
            for item in (*v.axes, *v.artists):
                item.set_visible(name == view)
            self._boxes[name].layout.display = None if name == view else "none"
        for name, control in self.controls.items():
            control.disabled = name != "view" and name not in self._view_controls[view]
        self._shown = view
        self.invalidate()  # the static layer (axes, titles) differs from one view to the next

    def _sync_position(self, fits: int) -> None:
        """The position slider spans the filter positions that fit; changing its range runs no update."""
        slider = self.controls["position"]
        if slider.max != max(fits ** 2 - 1, 0):
            self._syncing = True
            try:
                slider.max = max(fits ** 2 - 1, 0)
            finally:
                self._syncing = False

    # --- update -------------------------------------------------------------------------------------------------
    def update(self) -> None:
        if self._syncing:
            return
        c = self.settings
        view = c["view"]
        self._show_view(view)
        shown = self.views[view]
        funcs = tuple(self.choices[label].funcs[0] for label in shown.uses)
        readout, problem, error = shown.update(c, funcs, self.text_colors)
        if shown is self.layer:
            self._sync_position(self.layer.fits)
        self.show_note("\n".join(self.choices[label].note for label in shown.uses if self.choices[label].note))
        self.show_readout(readout)
        self.show_message(textwrap.fill(problem, MESSAGE_WIDTH), error=error)
        self.redraw()


@themed
def conv_shape_explorer(conv_output_size=None, conv_forward=None, max_pool_forward=None,
                        **options) -> ConvShapeExplorer:
    """Build the conv shape explorer; it displays itself as the last expression of a cell.

    Your functions, each used once it passes its check (course.checks) and replaced by the reference, with a
    note on the figure, until then: ``conv_output_size(W, F, S, P)`` gives the output size of the layer drawn in
    "one layer"; ``conv_forward(x, w, b, conv_param)`` and ``max_pool_forward(x, pool_param)`` (your naive ones)
    compute the feature maps in "trained on digits". ``options``: view (one of VIEWS), scale.
    """
    return ConvShapeExplorer(conv_output_size, conv_forward, max_pool_forward, **options)
