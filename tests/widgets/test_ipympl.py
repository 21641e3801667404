"""Explorers under the real ipympl backend, in a fresh interpreter (the backend is chosen once per process)."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import matplotlib
    matplotlib.use("module://ipympl.backend_nbagg")
    import ipywidgets as W
    import widgets

    def children(box):
        for child in box.children:
            yield child
            if isinstance(child, W.Box):
                yield from children(child)

    for explorer in (widgets.saturation_explorer(), widgets.dead_relu_explorer(steps=20)):
        canvas = explorer.fig.canvas
        assert isinstance(canvas, W.DOMWidget), type(canvas)
        assert canvas.header_visible is False
        assert any(child is canvas for child in children(explorer.box))
        assert all(any(child is c for child in children(explorer.box)) for c in explorer.controls.values())
        assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()
        before = explorer.message.get_text()
        explorer.controls["weight_scale"].value = 100.0
        assert explorer.message.get_text() != before
        assert explorer.output.outputs == (), explorer.output.outputs

    # Every frame ipympl ships is whole, never a difference from the previous one (a difference lost by a busy
    # browser would leave stale pixels): frames from full draws and from blits alike.
    explorer = widgets.saturation_explorer()
    canvas, modes = explorer.fig.canvas, []
    encode = type(canvas).get_diff_image
    def recording(self):
        frame = encode(self)
        if frame is not None:
            modes.append(self._current_image_mode)
        return frame
    type(canvas).get_diff_image = recording
    canvas.draw()
    canvas.manager.refresh_all()
    for value in (0.5, 2.0, 0.2, 3.0):
        explorer.controls["weight_scale"].value = value
        assert not explorer.needs_full_draw  # these events blit
    assert len(modes) == 5 and set(modes) == {"full"}, modes
    # and no frame is copied into _data_url, which ipympl would do without the data-URL prefix (a broken image)
    assert canvas._data_url is None, str(canvas._data_url)[:40]
    print("ok")
""")


def test_explorers_put_the_ipympl_canvas_in_their_box_and_send_whole_frames():
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
