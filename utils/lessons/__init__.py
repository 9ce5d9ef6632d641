"""One module per lesson: that lesson's figures, widget, exercise checkers and own data code.

``lessonN.py`` is the home of Lesson N (notebook ``notebooks/0N_*.ipynb``); past 500 lines it
is split by topic into ``lessonN_<topic>.py`` beside it. A lesson imports the core pieces,
the engine and the primitives (``utils.figures``, ``utils.run_figures``, ``utils.frames``,
``utils.explorer``, ``utils.exercise``), never another lesson: a figure two lessons need is a
primitive. ``tests/test_repository.py`` checks this.
"""
