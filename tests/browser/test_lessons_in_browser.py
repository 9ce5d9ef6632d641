"""Each lesson, run as a learner runs it: JupyterLab in a real (headless) browser.

For every lesson notebook the test opens it in JupyterLab, clears the stored outputs, picks
Run > Run All Cells from the menu, and waits until the kernel is idle and every code cell
has a fresh execution count. Then it checks what a learner would see:

- execution counts 1..n (one fresh kernel, top to bottom), and no error output anywhere;
- every cell that has a picture in the committed notebook shows a decoded image again;
- every cell that displayed widgets shows live widgets, not their text fallback;
- each widget starts where its lesson's text says (``WIDGET_STARTS``), before anything
  touches it: nothing in the lesson moves it after it is shown;
- each slider, dropdown or toggle button a lesson offers really drives its picture: the
  test drags the slider's handle with the mouse (or picks another option or button) and
  waits for the output beside it to change;
- each JavaScript animation (matplotlib's player) shows its first frame before any button
  is pressed (a box of non-zero size whose screenshot is not blank), and steps to its next
  frame when asked.

Screenshots and timings go to ``test-artifacts/browser/``: ``NN_name.png`` (the window
with the lesson's widget, or its last picture, in view), ``NN_name_widget_before.png`` /
``_after.png`` (the widget before and after the move), ``NN_name_animation.png`` (the
player's first frame, as shown before any button is pressed), and ``NN_name.json`` (seconds to
open, to run all, per cell, and per widget move; cells that ran longer than
``LONG_CELL_SECONDS`` without a progress bar are listed there and in the summary). A failed
lesson leaves ``NN_name_failed.png``, the window as it was.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("BROWSER_NOTEBOOKS", ROOT / "notebooks")).resolve()
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

# A whole lesson, top to bottom, on a loaded 2-core machine.
RUN_ALL_TIMEOUT = float(os.environ.get("BROWSER_LESSON_TIMEOUT", "900"))
# One widget move retrains a small agent; allow for a busy machine.
WIDGET_TIMEOUT = float(os.environ.get("BROWSER_WIDGET_TIMEOUT", "120"))
# Cells slower than this should show a progress bar (reported, not failed).
LONG_CELL_SECONDS = 10.0
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# Where each lesson's widget starts, as its text says: {lesson prefix: {label: value}}, with
# the label as the widget shows it (its start is enough) and the value as it reads: a number
# for sliders (compared as numbers), the chosen option's text, or True/False for a checkbox.
WIDGET_STARTS: dict[str, dict[str, object]] = {
    # "(it starts at $\\gamma = 0.9$)"
    "00": {"gamma": 0.9},
    # "It starts with only 1,000 episodes"; the static copy below it: alpha 0.1, gamma
    # 0.99, epsilon 0.1.
    "01": {"alpha": 0.1, "gamma": 0.99, "epsilon": 0.1, "episodes": 1000},
    # grid_explorer((3, 3, 6, 3)): "It starts at 3, 3, 6 and 3 bins"
    "02": {"cart pos.": 3, "cart vel.": 3, "pole angle": 6, "pole vel.": 3},
    # "It starts with the online learner, seed 0."
    "03": {"variant": "online", "seed": "0"},
    # "it starts at the course's setting" (cartpole_config: C = 500, learning rate 0.0025); the
    # stability map below it starts at "C = 50 and learning rate 2.5e-4" (read second)
    "04": {"sync period C": 500, "learning rate": "0.0025"},
    # maximization_bias_explorer: "It starts at the setting above: 10 actions, epsilon 0.1."
    "05": {"actions in B": 10, "epsilon": 0.1},
    # "it starts with `no_terminal_mask`", beside the correct agent
    "06": {"variant": "no_terminal_mask", "beside": True},
}
# A first frame counts as visible when its screenshot's pixels vary at least this much
# (standard deviation of the 0..255 values; a blank box has 0, a CartPole frame about 30).
FRAME_MIN_STD = 5.0

# --- what the page shows, read with small pieces of JavaScript ------------------------

CELLS_JS = "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"

PROGRESS_SELECTOR = ".widget-hprogress, .widget-progress, progress"

# [cell index, prompt text, shows a progress bar now] for every code cell.
PROMPTS_JS = f"""() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map((c, i) =>
  c.classList.contains('jp-CodeCell')
    ? [i, (c.querySelector('.jp-InputArea-prompt') || {{}}).textContent || '',
       c.querySelectorAll('.jp-OutputArea {PROGRESS_SELECTOR}').length > 0
         || /\\d+%\\|/.test((c.querySelector('.jp-OutputArea') || {{}}).innerText || '')]
    : null
).filter(Boolean)"""

STATUS_JS = """() => (document.querySelector('.jp-Notebook-ExecutionIndicator') || {dataset: {}})
  .dataset.status || null"""

# Error outputs, stderr tracebacks, and widgets that failed to render.
ERRORS_JS = """() => {
  const found = [];
  document.querySelectorAll('.jp-Notebook .jp-Cell').forEach((cell, i) => {
    cell.querySelectorAll('.jp-OutputArea-output').forEach(out => {
      const text = out.innerText || '';
      const stderr = out.dataset.mimeType === 'application/vnd.jupyter.stderr';
      if ((stderr && /Traceback|\\w+Error\\b/.test(text)) || /Error displaying widget/.test(text)
          || out.classList.contains('jp-OutputArea-executeResult') && /^Traceback/.test(text)) {
        found.push([i, text.slice(0, 1500)]);
      }
    });
  });
  return found;
}"""

# Per cell: decoded images, live widget views, sliders/dropdowns, progress bars.
OUTPUTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell => {
  const area = cell.querySelector('.jp-OutputArea');
  if (!area) return null;
  const imgs = [...area.querySelectorAll('img')];
  return {
    images: imgs.filter(img => img.complete && img.naturalWidth > 0).length,
    brokenImages: imgs.filter(img => !(img.complete && img.naturalWidth > 0)).length,
    widgets: area.querySelectorAll('.jupyter-widgets').length,
    controls: area.querySelectorAll(
      '.widget-slider .noUi-handle, .widget-dropdown select, .widget-toggle-buttons').length,
    animations: area.querySelectorAll('.animation img[id^="_anim_img"]').length,
    text: (area.innerText || '').slice(0, 300),
  };
})"""

# [label, value as shown] of every slider, dropdown, toggle-button row and checkbox in a cell.
CONTROL_STATES_JS = """cell => [...cell.querySelectorAll(
    '.jp-OutputArea .widget-slider, .jp-OutputArea .widget-dropdown, '
    + '.jp-OutputArea .widget-toggle-buttons, .jp-OutputArea .widget-checkbox')].map(w => {
  // textContent, not innerText: a cell JupyterLab keeps out of view has no rendered text
  const text = e => (e && e.textContent || '').replace(/\u200b/g, '').trim();
  const label = [...w.querySelectorAll('.widget-label-basic span, .widget-label')]
    .map(text).find(t => t) || '';
  let value = '';
  if (w.classList.contains('widget-slider')) value = text(w.querySelector('.widget-readout'));
  else if (w.classList.contains('widget-dropdown')) {
    const select = w.querySelector('select');
    value = select && select.selectedOptions.length ? select.selectedOptions[0].textContent : '';
  } else if (w.classList.contains('widget-toggle-buttons')) {
    value = text(w.querySelector('.mod-active'));
  } else {
    const box = w.querySelector('input[type=checkbox]');
    value = box ? String(box.checked) : '';
  }
  return [label, value.trim()];
})"""

# What a widget shows: its images (by content) and the text of its output areas.
SIGNATURE_JS = """area => JSON.stringify({
  images: [...area.querySelectorAll('img')].map(img => img.src.length + ':' + img.src.slice(-200)),
  text: [...area.querySelectorAll('.widget-output, .jupyter-widgets-output-area, .widget-html')]
    .map(e => e.innerText),
})"""


def _committed(path: Path) -> dict:
    """Return what the committed notebook promises: code cells, pictures, widget cells."""
    nb = json.loads(path.read_text())
    code, images, widgets = [], [], []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        code.append(i)
        kinds = {key for out in cell.get("outputs", []) for key in out.get("data", {})}
        if "image/png" in kinds or "image/svg+xml" in kinds:
            images.append(i)
        if WIDGET_MIME in kinds:
            widgets.append(i)
    return {"n_cells": len(nb["cells"]), "code": code, "images": images, "widgets": widgets}


def _open_menu_item(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{menu}$")).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def _prompts(page) -> dict[int, str]:
    return {i: prompt.strip() for i, prompt, _ in page.evaluate(PROMPTS_JS)}


def _wait_for_run_all(
    page, code_cells: list[int], timeout: float
) -> tuple[dict[int, float], set[int]]:
    """Wait until every code cell has a number and the kernel is idle.

    Returns:
        When each code cell finished (seconds after the start), and the cells that showed a
        progress bar at some point while the lesson ran (bars may close when done).
    """
    start = time.monotonic()
    finished: dict[int, float] = {}
    progress: set[int] = set()
    while True:
        now = time.monotonic() - start
        for i, prompt, has_bar in page.evaluate(PROMPTS_JS):
            if i not in finished and re.fullmatch(r"\[\d+\]:", prompt.strip()):
                finished[i] = now
            if has_bar:
                progress.add(i)
        status = page.evaluate(STATUS_JS)
        if len(finished) == len(code_cells) and status == "idle":
            return finished, progress
        errors = page.evaluate(ERRORS_JS)
        if errors and status == "idle" and now > 5:
            # Run All stops at the first error; no point waiting for the rest.
            cell, text = errors[0]
            pytest.fail(f"cell {cell} raised an error in JupyterLab:\n{text}")
        if now > timeout:
            waiting = [i for i in code_cells if i not in finished]
            pytest.fail(
                f"Run All did not finish in {timeout:.0f} s: kernel {status}, "
                f"cells still waiting {waiting}"
            )
        time.sleep(0.25)


def _cell_seconds(finished: dict[int, float]) -> dict[int, float]:
    """Turn finish times of cells run one after another into each cell's own duration."""
    seconds, previous = {}, 0.0
    for i, t in sorted(finished.items(), key=lambda item: item[1]):
        seconds[i] = round(t - previous, 2)
        previous = t
    return seconds


def _move_control(page, cell) -> str:
    """Drag the first slider's handle (or pick another dropdown option) of ``cell``.

    Returns:
        What was moved, from which value to which.
    """
    handle = cell.locator(".jp-OutputArea .widget-slider .noUi-handle").first
    if handle.count():
        slider = cell.locator(".jp-OutputArea .widget-slider").first
        label = slider.locator(".widget-label").inner_text().strip()
        readout = slider.locator(".widget-readout")
        shown = readout.inner_text().strip()
        before = handle.get_attribute("aria-valuenow")
        at_max = before == handle.get_attribute("aria-valuemax")
        # Drag it a little, as a learner does (the widgets update on release); further if it
        # snaps back, as a slider over a few options does.
        for distance in (25, 60, 120):
            box = handle.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + (-distance if at_max else distance), y, steps=5)
            page.mouse.up()
            deadline = time.monotonic() + 3
            while handle.get_attribute("aria-valuenow") == before and time.monotonic() < deadline:
                time.sleep(0.1)
            if handle.get_attribute("aria-valuenow") != before:
                return f"slider {label!r}: {shown} -> {readout.inner_text().strip()}"
        pytest.fail(f"slider {label!r} did not move when dragged")
    toggle = cell.locator(".jp-OutputArea .widget-toggle-button:not(.mod-active)").first
    if toggle.count():
        toggle.click()
        return f"toggle button -> {toggle.inner_text().strip()}"
    select = cell.locator(".jp-OutputArea .widget-dropdown select").first
    options = select.locator("option").all_inner_texts()
    before = select.input_value()
    values = [o.get_attribute("value") for o in select.locator("option").all()]
    target = next(v for v in values if v != before)
    select.select_option(target)
    return f"dropdown: {options[values.index(before)]} -> {options[values.index(target)]}"


def _check_animation_plays(cell, index: int, name: str, artifacts: Path) -> dict:
    """Check that a matplotlib JavaScript animation shows its first frame before any button
    is pressed (non-zero size, pixels that vary), then steps one frame; say whether its
    buttons have icons."""
    player = cell.locator(".jp-OutputArea .animation").first
    player.scroll_into_view_if_needed()
    frame = player.locator('img[id^="_anim_img"]')
    before = frame.get_attribute("src") or ""
    assert before.startswith("data:image"), f"cell {index}: the animation shows no frame"
    box = frame.bounding_box()
    assert box and box["width"] > 10 and box["height"] > 10, (
        f"cell {index}: the animation's first frame is a {box} box before any button is pressed"
    )
    shot = frame.screenshot(path=str(artifacts / f"{name}_animation.png"))
    pixels = _png_pixels(shot)
    assert pixels.std() > FRAME_MIN_STD, (
        f"cell {index}: the animation's first frame looks blank (pixel std {pixels.std():.1f})"
    )
    player.locator('button[aria-label="Next frame"]').click()
    deadline = time.monotonic() + 10
    while frame.get_attribute("src") == before:
        assert time.monotonic() < deadline, f"cell {index}: 'Next frame' did not change the frame"
        time.sleep(0.1)
    # The player's buttons draw Font Awesome icons; without its CSS they are blank.
    icons = player.evaluate(
        """p => [...p.querySelectorAll('.anim-buttons i')].filter(i => {
             const c = getComputedStyle(i, '::before').content;
             return c && c !== 'none' && c !== 'normal' && c !== '""';
           }).length"""
    )
    return {
        "cell": index,
        "first_frame": {
            "width": box["width"],
            "height": box["height"],
            "pixel_std": round(float(pixels.std()), 1),
        },
        "steps_frames": True,
        "buttons_with_icons": icons,
    }


def _png_pixels(png: bytes) -> np.ndarray:
    """Decode a PNG screenshot into an ``(H, W, channels)`` array of 0..255 values."""
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3] * 255.0


def _same_value(expected: object, shown: str) -> bool:
    if isinstance(expected, bool):
        return shown.lower() == str(expected).lower()
    if isinstance(expected, (int, float)):
        try:
            return abs(float(shown.replace(",", "")) - expected) <= 1e-9 + 1e-6 * abs(expected)
        except ValueError:
            return False
    return shown == str(expected)


def _check_widget_starts(name: str, states: list[list[str]]) -> None:
    """Check the controls as shown right after Run All against ``WIDGET_STARTS``."""
    expected = WIDGET_STARTS.get(name[:2])
    assert expected is not None, (
        f"{name} shows controls {states}: say in WIDGET_STARTS where its widget starts, as "
        "the lesson's text says"
    )
    for label, value in expected.items():
        found = [v for shown_label, v in states if shown_label.startswith(label)]
        assert found, f"{name}: no control labelled {label!r} among {states}"
        assert _same_value(value, found[0]), (
            f"{name}: control {label!r} starts at {found[0]!r}, but the lesson says {value!r} "
            "(does a cell move the widget after it is shown?)"
        )


def _check_widget_is_live(page, cell, name: str, index: int, artifacts: Path) -> dict:
    area = cell.locator(".jp-OutputArea").first
    area.scroll_into_view_if_needed()
    before = area.evaluate(SIGNATURE_JS)
    area.screenshot(path=str(artifacts / f"{name}_widget_before.png"))
    start = time.monotonic()
    move = _move_control(page, cell)
    while area.evaluate(SIGNATURE_JS) == before:
        if time.monotonic() - start > WIDGET_TIMEOUT:
            pytest.fail(f"cell {index}: after moving {move}, the output did not change")
        time.sleep(0.1)
    seconds = time.monotonic() - start
    text = area.inner_text()
    assert "Traceback" not in text, f"cell {index}: the widget callback failed:\n{text[-1500:]}"
    time.sleep(0.5)  # let the new picture finish decoding before the screenshot
    area.screenshot(path=str(artifacts / f"{name}_widget_after.png"))
    return {"cell": index, "move": move, "seconds_to_new_output": round(seconds, 2)}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_in_jupyterlab_with_live_widgets(
    lesson: Path, lab, browser_context, artifacts, browser_timings
):
    name = lesson.stem
    expected = _committed(lesson)
    timing: dict = {"lesson": lesson.name}
    browser_timings[name] = timing
    console_errors: list[str] = []
    page = browser_context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        start = time.monotonic()
        page.goto(lab.lab_url(lesson.name))
        page.wait_for_function(
            f"() => ({CELLS_JS})().length === {expected['n_cells']}", timeout=120_000
        )
        page.wait_for_selector(
            '.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000
        )
        timing["seconds_to_open"] = round(time.monotonic() - start, 1)
        page.keyboard.press("Control+b")  # hide the file browser: more lesson on screen

        # Clear the committed outputs first, so every number and picture checked below
        # comes from this run.
        _open_menu_item(page, "Edit", "Clear Outputs of All Cells")
        # Folded solution cells (source hidden) render no execution prompt; unfold them so
        # every code cell can be seen to finish.
        _open_menu_item(page, "View", "Expand All Code")
        prompts = _prompts(page)
        assert not any(re.search(r"\d", p) for p in prompts.values()), prompts
        start = time.monotonic()
        _open_menu_item(page, "Run", "Run All Cells")
        finished, progress = _wait_for_run_all(page, expected["code"], RUN_ALL_TIMEOUT)
        timing["seconds_run_all"] = round(time.monotonic() - start, 1)

        counts = [int(re.sub(r"\D", "", _prompts(page)[i])) for i in expected["code"]]
        assert counts == list(range(1, len(counts) + 1)), f"not run top to bottom: {counts}"
        errors = page.evaluate(ERRORS_JS)
        assert not errors, "error output in JupyterLab:\n" + "\n".join(
            f"cell {i}: {text}" for i, text in errors
        )

        outputs = page.evaluate(OUTPUTS_JS)
        no_picture = [i for i in expected["images"] if not outputs[i]["images"]]
        assert not no_picture, f"cells {no_picture} show no picture (committed ones do)"
        broken = [i for i, o in enumerate(outputs) if o and o["brokenImages"]]
        assert not broken, f"cells {broken} show images that did not decode"
        dead = [i for i in expected["widgets"] if not outputs[i]["widgets"]]
        assert not dead, (
            f"cells {dead} displayed widgets but JupyterLab shows no live widget there: "
            + "; ".join(outputs[i]["text"][:120] for i in dead)
        )

        seconds = _cell_seconds(finished)
        timing["cell_seconds"] = {str(i): s for i, s in seconds.items()}
        timing["long_cells_without_progress_bar"] = [
            i for i, s in seconds.items() if s > LONG_CELL_SECONDS and i not in progress
        ]
        timing["cells_with_progress_bar"] = sorted(progress)

        cells = page.locator(".jp-Notebook .jp-Cell")
        interactive = [i for i, o in enumerate(outputs) if o and o["controls"]]
        states = []
        for i in interactive:
            cells.nth(i).scroll_into_view_if_needed()
            states += cells.nth(i).evaluate(CONTROL_STATES_JS)
        timing["widget_start"] = states
        if interactive:
            _check_widget_starts(name, states)
        timing["widgets"] = [
            _check_widget_is_live(page, cells.nth(i), name, i, artifacts) for i in interactive
        ]
        timing["animations"] = [
            _check_animation_plays(cells.nth(i), i, name, artifacts)
            for i, o in enumerate(outputs)
            if o and o["animations"]
        ]
        # Keep the browser's view of the lesson: its (last) widget, or its last picture.
        shown = interactive or [i for i, o in enumerate(outputs) if o and o["images"]]
        if shown:
            cells.nth(shown[-1]).scroll_into_view_if_needed()
        time.sleep(0.5)
        page.screenshot(path=str(artifacts / f"{name}.png"))
        timing["console_errors"] = console_errors[:20]
    except BaseException:
        page.screenshot(path=str(artifacts / f"{name}_failed.png"))
        raise
    finally:
        (artifacts / f"{name}.json").write_text(json.dumps(timing, indent=2))
        page.close()
        lab.shutdown_kernels()
