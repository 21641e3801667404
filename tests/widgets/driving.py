"""Driving an explorer's controls in tests."""
import warnings


def set_and_draw(explorer, setting: dict) -> None:
    """Set the controls named in ``setting`` to its values, as one update, then draw the whole figure; any warning
    on the way is raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with explorer.holding():
            for name, value in setting.items():
                explorer.controls[name].value = value
        explorer.fig.canvas.draw()
