"""Both explorers under the real ipympl backend, in a fresh interpreter (the backend is chosen once per process)."""
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
    print("ok")
""")


def test_explorers_put_the_ipympl_canvas_in_their_box():
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
