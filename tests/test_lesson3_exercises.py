"""Lesson 3's exercises: the replay buffer and the update step, against right and wrong answers.

The wrong answers are written as a learner would write them (not the checkers' own
catalogue), and every named mistake must be recognised.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from utils.exercise import CORRECT, ERROR, NOT_ATTEMPTED, WRONG
from utils.lessons.lesson3_buffer import (
    BUFFER_MISTAKES,
    SolutionReplayBuffer,
    check_replay_buffer,
)
from utils.lessons.lesson3_update import UPDATE_STEP, check_update_step, solution_update_step

# --- the replay buffer -------------------------------------------------------------------------


class Stub:
    def __init__(self, capacity, obs_dim):
        self.capacity, self.pos, self.size = capacity, 0, 0
        ...  # your code here

    def __len__(self):
        return self.size

    def add(self, obs, action, reward, next_obs, terminated, truncated): ...  # your code here

    def sample(self, batch_size, rng):
        # return (obs, actions, rewards, next_obs, terminated)
        ...  # your code here


class Base(SolutionReplayBuffer):
    """The solution, with one method replaced by each wrong answer below."""


class SliceAndChoice(Base):  # a correct answer written differently
    def sample(self, batch_size, rng):
        idx = rng.choice(len(self), size=batch_size, replace=True)
        fields = (self.obs, self.actions, self.rewards, self.next_obs, self.terminated)
        return tuple(torch.as_tensor(a[: len(self)][idx]) for a in fields)


class Lists:
    def __init__(self, capacity, obs_dim):
        self.capacity, self.data = capacity, []

    def __len__(self):
        return len(self.data)

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        self.data.append((obs, action, reward, next_obs, terminated))
        self.data = self.data[-self.capacity :]

    def sample(self, batch_size, rng):
        rows = [self.data[i] for i in rng.integers(0, len(self.data), batch_size)]
        return tuple(
            torch.tensor(np.array(c), dtype=torch.float32) for c in zip(*rows, strict=True)
        )


class Appends(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        self.obs = np.append(self.obs, [obs], axis=0)[1:].astype(np.float32)
        super().add(obs, action, reward, next_obs, terminated, truncated)


class NoWrap(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.pos += 1
        self.size = min(self.size + 1, self.capacity)


class KeepsOldest(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        if self.size < self.capacity:
            super().add(obs, action, reward, next_obs, terminated, truncated)


class OverwritesLast(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        if self.size == self.capacity:
            self.pos = self.capacity - 1
        super().add(obs, action, reward, next_obs, terminated, truncated)


class SizeGrows(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        size = self.size
        super().add(obs, action, reward, next_obs, terminated, truncated)
        self.size = size + 1


class NoSize(Base):
    def __len__(self):
        return self.capacity


class SamplesCapacity(Base):
    def sample(self, batch_size, rng):
        self.size, size = self.capacity, self.size
        try:
            return super().sample(batch_size, rng)
        finally:
            self.size = size


class WithoutReplacement(Base):
    def sample(self, batch_size, rng):
        idx = rng.choice(self.size, batch_size, replace=False)
        fields = (self.obs, self.actions, self.rewards, self.next_obs, self.terminated)
        return tuple(torch.from_numpy(a[idx]) for a in fields)


class GlobalRandom(Base):
    def sample(self, batch_size, rng):
        return super().sample(batch_size, np.random.default_rng())


class IndexPerField(Base):
    def sample(self, batch_size, rng):
        fields = (self.obs, self.actions, self.rewards, self.next_obs, self.terminated)
        return tuple(torch.from_numpy(a[rng.integers(0, self.size, batch_size)]) for a in fields)


class NewestOnly(Base):
    def sample(self, batch_size, rng):
        rng.integers(0, self.size, batch_size)
        idx = np.full(batch_size, (self.pos - 1) % self.capacity)
        fields = (self.obs, self.actions, self.rewards, self.next_obs, self.terminated)
        return tuple(torch.from_numpy(a[idx]) for a in fields)


class Done(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        super().add(obs, action, reward, next_obs, terminated or truncated, truncated)


class Truncated(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        super().add(obs, action, reward, next_obs, truncated, truncated)


class Float64(Base):
    def __init__(self, capacity, obs_dim):
        super().__init__(capacity, obs_dim)
        self.obs = np.zeros((capacity, obs_dim))  # float64


class FloatActions(Base):
    def __init__(self, capacity, obs_dim):
        super().__init__(capacity, obs_dim)
        self.actions = np.zeros(capacity, dtype=np.float32)


class NumpyOut(Base):
    def sample(self, batch_size, rng):
        return tuple(t.numpy() for t in super().sample(batch_size, rng))


class FourFields(Base):
    def sample(self, batch_size, rng):
        return super().sample(batch_size, rng)[:4]


class Raises(Base):
    def add(self, obs, action, reward, next_obs, terminated, truncated):
        self.obs[self.pos] = obs.reshape(2, 2)  # a learner's wrong shape
        super().add(obs, action, reward, next_obs, terminated, truncated)


class NotImplemented_(Base):
    def sample(self, batch_size, rng):
        raise NotImplementedError


@pytest.mark.parametrize("answer", [SolutionReplayBuffer, SliceAndChoice])
def test_right_buffers_pass(answer, capsys):
    verdict = check_replay_buffer(answer)
    assert verdict.status == CORRECT, verdict.message
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, mistake",
    [
        (Lists, "not preallocated"),
        (Appends, "not preallocated"),
        (NoWrap, "did not wrap around"),
        (KeepsOldest, "stopped storing new transitions once full"),
        (OverwritesLast, "overwrote the wrong slot"),
        (SizeGrows, "let the size grow past the capacity"),
        (NoSize, "did not count the transitions in len()"),
        (SamplesCapacity, "sampled from slots that are not filled yet"),
        (WithoutReplacement, "sampled without replacement"),
        (GlobalRandom, "ignored the rng argument"),
        (IndexPerField, "drew a separate random index for each field"),
        (NewestOnly, "sampled only part of the filled slots"),
        (Done, "stored truncated as terminal"),
        (Truncated, "stored truncated instead of terminated"),
        (Float64, "returned the wrong type, dtype or shape"),
        (FloatActions, "returned the wrong type, dtype or shape"),
        (NumpyOut, "returned the wrong type, dtype or shape"),
        (FourFields, "returned the wrong fields"),
    ],
)
def test_each_buffer_mistake_is_named(answer, mistake):
    verdict = check_replay_buffer(answer, verbose=False)
    assert verdict.status == WRONG, verdict.message
    assert verdict.mistake == mistake, verdict.message
    assert verdict.message.startswith(f"Not quite: it looks like your buffer {mistake}")
    assert "Hint:" in verdict.message


def test_every_buffer_mistake_has_a_test():
    tested = {
        "not preallocated", "did not wrap around", "stopped storing new transitions once full",
        "overwrote the wrong slot", "let the size grow past the capacity",
        "did not count the transitions in len()", "sampled from slots that are not filled yet",
        "sampled without replacement", "ignored the rng argument",
        "drew a separate random index for each field", "sampled only part of the filled slots",
        "stored truncated as terminal", "stored truncated instead of terminated",
        "returned the wrong type, dtype or shape", "returned the wrong fields",
    }  # fmt: skip
    assert set(BUFFER_MISTAKES) - tested == {"stored the transitions wrongly"}


def test_stub_buffer_is_not_attempted(capsys):
    verdict = check_replay_buffer(Stub)
    assert verdict.status == NOT_ATTEMPTED
    assert "`Stub.add` and `Stub.sample`" in capsys.readouterr().out
    assert check_replay_buffer(NotImplemented_, verbose=False).status == NOT_ATTEMPTED


def test_a_raising_buffer_shows_the_error_and_its_line():
    verdict = check_replay_buffer(Raises, verbose=False)
    assert verdict.status == ERROR
    assert "ValueError" in verdict.message and "obs.reshape(2, 2)" in verdict.message


def test_buffer_checker_wants_a_class():
    with pytest.raises(TypeError, match="cls"):
        check_replay_buffer(SolutionReplayBuffer(5, 3))


# --- the update step ---------------------------------------------------------------------------


def update_stub(q_network, optimizer, batch, gamma):
    # compute y without gradient, the squared error of Q(s, a), one optimiser step
    ...  # your code here


def half_squared_error(q_network, optimizer, batch, gamma):  # section 1's 1/2 (y - Q)^2
    obs, actions, rewards, next_obs, terminated = batch
    y = rewards + gamma * (1 - terminated) * q_network(next_obs).detach().max(-1)[0]
    q_taken = q_network(obs)[torch.arange(len(actions)), actions]
    loss = 0.5 * torch.nn.functional.mse_loss(q_taken, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def learner(target="mask", grad=False, loss="mse", zero=True, step=True, taken="gather"):
    """A learner's update step with one thing done the way a learner might get it wrong."""

    def update(q_network, optimizer, batch, gamma):
        if zero:  # cleared first, as many learners do: any place before backward() is right
            optimizer.zero_grad()
        obs, actions, rewards, next_obs, terminated = batch
        next_q = q_network(next_obs) if grad else q_network(next_obs).detach()
        best = next_q.max(dim=1).values
        y = {
            "mask": rewards + gamma * (1 - terminated) * best,
            "where": torch.where(terminated > 0, rewards, rewards + gamma * best),
            "none": rewards + gamma * best,
            "flipped": rewards + gamma * terminated * best,
            "axis0": rewards + gamma * (1 - terminated) * next_q.max(dim=0).values,
            "obs": rewards + gamma * (1 - terminated) * q_network(obs).detach().max(1).values,
            "mean": rewards + gamma * (1 - terminated) * next_q.mean(dim=1),
            "no gamma": rewards + (1 - terminated) * best,
        }[target]
        q_all = q_network(obs)
        q_taken = q_all.gather(1, actions.unsqueeze(1)).squeeze(1) if taken == "gather" else (
            q_all.max(1).values)  # fmt: skip
        error = q_taken - y
        value = {
            "mse": (error**2).mean(),
            "huber": torch.nn.functional.huber_loss(q_taken, y),
            "sum": (error**2).sum(),
        }[loss]
        value.backward()
        if step:
            optimizer.step()
        return value.item()

    return update


@pytest.mark.parametrize(
    "answer", [solution_update_step, half_squared_error, learner(), learner(target="where")]
)
def test_right_update_steps_pass(answer):
    verdict = check_update_step(answer)
    assert verdict.status == CORRECT, verdict.message


@pytest.mark.parametrize(
    "answer, mistake",
    [
        (learner(target="none"), "forgot the terminal mask"),
        (learner(target="flipped"), "flipped the mask"),
        (learner(grad=True), "let the gradient flow through the target"),
        (learner(target="axis0"), "took the max over the batch axis"),
        (learner(target="obs"), "computed the target from Q(s) instead of Q(s')"),
        (learner(target="mean"), "averaged over the next actions"),
        (learner(target="no gamma"), "forgot gamma"),
        (learner(taken="max"), "used max_a Q(s, a) as the prediction instead of the action taken"),
        (learner(loss="huber"), "used the Huber loss"),
        (learner(loss="sum"), "summed the squared errors instead of averaging them"),
        (learner(zero=False), "forgot optimizer.zero_grad()"),
        (learner(step=False), "forgot optimizer.step()"),
    ],
)
def test_each_update_mistake_is_named(answer, mistake):
    verdict = check_update_step(answer)
    assert verdict.status == WRONG, verdict.message
    assert verdict.mistake == mistake, verdict.message


def test_every_update_mistake_has_a_test():
    assert len(UPDATE_STEP.mistakes) == 12


def test_the_exercise_runs_plain_functions_through_its_harness():
    # the catalogue and the reference are plain update steps, as a learner writes them
    for mistake in UPDATE_STEP.mistakes:
        verdict = UPDATE_STEP.check(mistake.implementation, verbose=False)
        assert verdict.mistake == mistake.name, verdict.message
    assert UPDATE_STEP.check(UPDATE_STEP.reference, verbose=False).passed
    # the solution it shows is the tested one, named as the notebook's stub
    assert UPDATE_STEP.solution.startswith("def update_step(q_network, optimizer, batch, gamma):")
    assert check_update_step(run_cell(UPDATE_STEP.solution)["update_step"]).passed


def test_update_stub_and_forgotten_return():
    assert check_update_step(update_stub).status == NOT_ATTEMPTED

    def no_return(q_network, optimizer, batch, gamma):
        solution_update_step(q_network, optimizer, batch, gamma)

    assert check_update_step(no_return).mistake == "forgot `return`"


def test_update_checker_wants_a_function():
    with pytest.raises(TypeError, match="fn"):
        check_update_step("loss.backward()")


# --- the notebook's own cells --------------------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_one_network.ipynb"


def notebook_cells() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def cell_with(start: str) -> str:
    (found,) = [c for c in notebook_cells() if c.startswith(start)]
    return found


def run_cell(source: str) -> dict:
    namespace = {"np": np, "torch": torch}
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("solution", [SolutionReplayBuffer, solution_update_step])
def test_the_notebooks_folded_solutions_are_the_tested_ones(solution):
    topic = "replay buffer" if solution is SolutionReplayBuffer else "update step"
    source = cell_with(f"# @title Solution: the {topic}")
    assert source.split("\n", 1)[1] == inspect.getsource(solution).rstrip("\n")


def test_the_notebooks_solution_cells_pass_and_its_stubs_are_not_attempted():
    buffer_cell = run_cell(cell_with("# @title Solution: the replay buffer"))
    update_cell = run_cell(cell_with("# @title Solution: the update step"))
    assert check_replay_buffer(buffer_cell["SolutionReplayBuffer"], verbose=False).passed
    assert check_update_step(update_cell["solution_update_step"]).passed
    stub_buffer = run_cell(cell_with("class MyReplayBuffer"))["MyReplayBuffer"]
    stub_update = run_cell(cell_with("def update_step("))["update_step"]
    assert check_replay_buffer(stub_buffer, verbose=False).status == NOT_ATTEMPTED
    assert check_update_step(stub_update).status == NOT_ATTEMPTED


def test_the_notebooks_loop_with_the_solutions_trains_like_utils_train():
    """The lesson's own run, shortened: the notebook's loop with the solution pieces takes the
    same steps as utils.train (same seed, same random streams) until rounding parts them."""
    from utils.dqn import DQNConfig
    from utils.envs import make_env
    from utils.networks import QNetwork
    from utils.schedules import LinearSchedule
    from utils.seeding import spawn_rngs
    from utils.train import train

    loop = cell_with("def run_single_network(").split("\n\n\nmine = ")[0]
    namespace = run_cell(loop)
    namespace.update(make_env=make_env, spawn_rngs=spawn_rngs, QNetwork=QNetwork,
                     LinearSchedule=LinearSchedule, tqdm=lambda it, **_: it)  # fmt: skip
    config = DQNConfig(total_steps=700, learning_starts=100, batch_size=16, buffer_size=500,
                       hidden_sizes=(16,), epsilon_decay_steps=300, loss="mse",
                       target_update_period=None)  # fmt: skip
    mine = namespace["run_single_network"](
        SolutionReplayBuffer, solution_update_step, config, seed=3
    )
    reference = train("CartPole-v1", config, seed=3, progress=False).history
    np.testing.assert_array_equal(mine["update_steps"], reference.update_steps)
    np.testing.assert_allclose(mine["max_q"][:200], reference.max_q[:200], rtol=1e-4)
    n = len(mine["episode_returns"])
    assert n > 10
    np.testing.assert_array_equal(mine["episode_returns"][:5], reference.episode_returns[:5])
