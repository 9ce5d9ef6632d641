"""The course library: the pieces the lessons stand on, readable bottom-up.

Modules, in the order they depend on each other:

- ``seeding``, ``schedules``: one seed helper and the epsilon schedules.
- ``envs``: Gymnasium environments as the lessons use them.
- ``tabular``, ``evaluation``: Q-learning with a table and exact value iteration.
- ``replay``, ``networks``: the replay buffer and the Q-network.
- ``dqn``: the one- and two-network trainers.
- ``plotting``, ``widgets``, ``exercises``: figures, interactive knobs and exercise checks.

Importing the package has no side effects: nothing is seeded, downloaded or configured.
"""

__version__ = "0.1.0"
