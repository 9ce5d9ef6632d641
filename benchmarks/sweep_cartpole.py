"""Sweep one DQN setting over 10 CartPole seeds (how cartpole_config was chosen).

Usage: python benchmarks/sweep_cartpole.py NAME '{"learning_rate": 2.5e-3, ...}'
Prints a summary line; writes /tmp/lead/NAME.json (collected in results/cartpole_sweep.*).
"""
import json, sys, time, torch, numpy as np
torch.set_num_threads(1)
from utils.dqn import DQNConfig, train_many
name = sys.argv[1]; kw = json.loads(sys.argv[2])
kw = {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}
cfg = DQNConfig(total_steps=50_000, eval_every=1000, eval_episodes=20, solved_return=475, **kw)
t = time.perf_counter()
runs = train_many("CartPole-v1", cfg, list(range(10)), progress=False)
wall = time.perf_counter() - t
out = []
for r in runs:
    fin = r.evaluate(20).mean()
    out.append(dict(seed=r.seed, solved=r.history.solved_step, final=float(fin), evals=r.history.eval_returns.tolist(), maxq=float(r.history.max_q.max())))
solved = [o["solved"] for o in out if o["solved"] is not None]
print(name, kw, "wall %.0f" % wall, "n_solved", len(solved), "median", np.median(solved) if solved else None, "finals", [round(o["final"]) for o in out], "solve", [o["solved"] for o in out], flush=True)
json.dump(dict(name=name, kw=kw, wall=wall, runs=out), open(f"/tmp/lead/{name}.json", "w"))
