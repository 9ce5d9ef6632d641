"""The course library: the pieces the lessons stand on, readable bottom-up.

Its parts, in the order they depend on each other (``CONTRIBUTING.md`` lists every module):

- core pieces: ``seeding``, ``schedules``, ``envs``, ``tabular``, ``evaluation``,
  ``discretize``, ``replay``, ``networks``, ``config``, ``dqn``, ``runs``, ``stats`` and
  ``train`` (the reference DQN loop);
- ``engine``: ``train_many``, many seeds at once, fast;
- primitives: ``figures``, ``run_figures``, ``frames``, ``explorer`` (the widget base) and
  ``exercise`` (the exercise framework);
- ``lessons``: one home per lesson, ``lessons.lessonN``.

Importing the package has no side effects: nothing is seeded, downloaded or configured.
"""

__version__ = "0.1.0"
