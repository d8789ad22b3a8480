# %% [markdown]
# # 05 — Check your own model
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/{REPO_PATH}/blob/{REPO_REF}/notebooks/05_check_your_model.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{REPO_PATH}/{REPO_REF}?urlpath=lab/tree/notebooks/05_check_your_model.ipynb)
#
# **The story.** You read the article, copied its `MF` class and its training loop, and pointed
# them at your own ratings. The loss barely moves and the model predicts nonsense. Nothing in your
# loop came from `mfteach` — and nothing has to: two added lines record the run, and
# `mf.diagnose` reads it and says what is wrong, with the evidence and a fix.
#
# **You will be able to:**
# 1. attach `mf.watch` to a training loop you wrote, without changing the loop;
# 2. read a report: its evidence, its explanation, its fix, and the notebook section that teaches it;
# 3. fix one thing at a time and rerun until the report has no warnings;
# 4. check weights you already have (`mf.diagnose(user_table, item_table, train=...)`,
#    `mfteach check-model` on the command line).
#
# **Prerequisites:** notebooks 01–03 help (each finding links back to them); notebook 04 is the
# guided version of this one. **Time:** 30 minutes.
#
# New to matrix factorization, or to a word used here? [MF in one page, and a glossary](../docs/glossary.md).
#
# *(claim 05.near-cliff)* after a sentence marks a registered claim: an experiment, with its
# conditions, that the tests rerun on two seeds. `mfteach claims 05` reruns this notebook's
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
import torch
import torch.nn as nn
import torch.optim as optim
from threadpoolctl import threadpool_limits
import matplotlib.pyplot as plt
import mfteach as mf
from mfteach.lessons import check_own as lesson, checks_own, article
SEED = 0
# CPU speed, as mf.train does: tiny (denormal) floats become 0 — a per-thread switch, hence one thread
_ = torch.set_flush_denormal(True)
torch.set_num_threads(1)
_ = threadpool_limits(1, user_api="blas")  # numpy's too: then section 3's runs can train ahead
                                           # in a second process, safely (not your own code's)

# %% [markdown]
# ## 1. The reader's code
# The model is the article's Example 1, run exactly as written; it defines the class `MF` (and a
# 1000 × 500 example model we do not use):

# %%
ns = article.run_example(1, {})   # the article's Example 1, character for character
MF = ns["MF"]
print(article.EXAMPLE_1.split("# Example usage")[0].strip())

# %% [markdown]
# The data: real ratings, MovieLens latest-small (its 2016 snapshot, offline; 671 users, 9,066 movies, ~100k
# ratings from 0.5 to 5 stars), split 80/10/10. A reader's own loader yields
# `(user_ids, item_ids, ratings)` batches of 1,024, as the article's loop expects.
# (`lesson.prefetch_steps` is not the reader's: it starts training section 3's three fixes in
# the background now, so they are ready when you get there — the same numbers as running them
# there (claim 05.ahead-same).)

# %%
split = lesson.reader_data(SEED)
data_loader = lesson.Batches(split.train, batch_size=1024, seed=SEED)
lesson.prefetch_steps(split, seed=SEED)
print(split.train)
print(f"predicting the training mean for everyone: validation RMSE {mf.baseline_rmse(split.train, split.val):.3f}")

# %% [markdown]
# The training loop is the article's Example 2 with the sizes of this data, wrapped in a
# function `fit` (so that each fix below can rerun it; `criterion` moved inside) — and **two
# added lines** (marked `# + mfteach`; the second behind the guard `if rec is not None`). The `l2`
# lines are not the article's either: they stay off (`l2=0`) until fix 3 below. `val_rmse` is a small helper of this lesson (the RMSE on
# the validation ratings, no gradient).

# %%
val_rmse = lesson.val_rmse

def fit(model, optimizer, data_loader, val, num_epochs=lesson.EPOCHS, l2=0.0, rec=None):
    criterion = nn.MSELoss()
    for epoch in range(num_epochs):
        for user_ids, item_ids, ratings in data_loader:
            optimizer.zero_grad()
            predictions = model(user_ids, item_ids)
            loss = criterion(predictions, ratings)
            if l2:  # fix 3, below: an L2 penalty on the rows this batch used
                loss = loss + l2 * (model.user_embeddings(user_ids).pow(2).sum(1).mean()
                                    + model.item_embeddings(item_ids).pow(2).sum(1).mean())
            loss.backward()
            optimizer.step()
        if rec is not None:
            rec.epoch_end(val_rmse=val_rmse(model, val))                     # + mfteach (2/2)

# %%
torch.manual_seed(SEED)                                                       # added: a seed, so the numbers repeat
num_users, num_items, embedding_dim = split.train.n_users, split.train.n_items, 64   # changed: the article has 1000, 500, 64
model = MF(num_users, num_items, embedding_dim)
optimizer = optim.Adam(model.parameters(), lr=0.001, weight_decay=0.01) # weight_decay adds L2 regularization
rec = mf.watch(model, optimizer, train=split.train)                         # + mfteach (1/2)
fit(model, optimizer, data_loader, split.val, rec=rec)

# %% [markdown]
# **Predict first.** Before you read the report: the model has Xavier init, no bias terms, raw
# 0.5–5 ratings, and Adam with `weight_decay=0.01`. What will its validation RMSE be after 10
# epochs — better or worse than predicting the mean (≈ 1.06)?

# %%
# NBVAL_CHECK_OUTPUT
print("validation RMSE per epoch:", " ".join(f"{v:.2f}" for v in rec.val_rmse))

# %% [markdown]
# It barely moves: ≈ 3.69 from the first epoch to the last, more than three times worse than
# predicting the mean — the model predicts ≈ 0 stars for everyone (claim 05.as-written-stuck).

# %% [markdown]
# ## 2. The report
# `mf.diagnose(rec)` reads what the recorder kept (the tables at attach time and at each epoch,
# the optimizer's settings, your validation numbers) and the training ratings. Each row: the
# evidence, what it means, a fix, and the section of the course that teaches it.

# %%
report = mf.diagnose(rec)
report

# %% [markdown]
# Four warnings (⚠) (claim 05.report-as-written): Adam's `weight_decay` sits near the cliff this
# data gives; the embeddings have collapsed to ≈ 0; the ratings average 3.5 stars but the model has
# no bias terms; and its predictions are far off the rating scale. No warning about the init:
# Xavier starts these tables tiny, and the first predictions are ≈ 0 as well
# (claim 05.as-written-stuck). The notes (ℹ) are things worth knowing, not faults. Each row's link
# opens the section of notebooks 01–03 that teaches it.
#
# The report lists symptoms, not an order of repair — and the first two share one cause. The
# recorder changes nothing in your training: with and without it, the same seed gives the same
# weights, bit for bit (claim 05.watch-invisible).

# %% [markdown]
# ### Why: the cliff, computed on this data
# Adam's `weight_decay=λ` adds λ·w to every gradient. Near w = 0 the data pulls the embeddings
# apart at a rate set by the rating matrix's largest singular value σ_max; the decay pulls them
# back. Past λ* = 2·σ_max/N (N ratings) the pull back wins and every embedding goes to 0
# (notebook 02). On these raw ratings λ* ≈ 0.0104 — the article's 0.01 sits just below it, and
# the embeddings cannot get going: the decay first shrinks the tables (the item table more than
# ten-fold in the first epoch), after 10 epochs both are still over ten times smaller than at the
# start, and after 30 epochs the job still predicts ≈ 0 (claim 05.near-cliff). Below the cliff is not safe either: a tenth
# of λ* still leaves this model far behind no decay at all (claim 05.decay-below-cliff). On centred ratings the cliff would be
# six times lower, ≈ 0.0017 (claim 05.near-cliff).

# %%
# NBVAL_CHECK_OUTPUT
t = split.train
print(f"raw ratings:     λ* = {checks_own.cliff_lambda(t):.4f}   (the reader's weight_decay: 0.01)")
print(f"centred ratings: λ* = {checks_own.cliff_lambda(t, t.ratings - t.ratings.mean()):.4f}")

# %% [markdown]
# **Exercise 1.** Which ONE setting holds the tables at 0?

# %%
ex = checks_own.exercises()
answer = ...   # 'init', 'weight_decay', 'biases', 'lr', 'epochs' or 'batch_size'
ex["collapse"].check(answer)

# %% [markdown]
# **Exercise 2.** Compute λ* yourself from `split.train` (`ex["cliff"].hint()` if stuck).

# %%
lam_star = ...   # your code: 2 * sigma_max / N
ex["cliff"].check(lam_star)

# %% [markdown]
# ## 3. One fix at a time
# Each step changes ONE thing and reruns the same loop with the recorder attached. The helper
# `lesson.run_step` builds each step's model and optimizer exactly as shown, then calls the same
# `fit` (a test checks that the lesson's `fit` is this notebook's).

# %%
for step in lesson.STEPS:
    print(f"{step:26s} {lesson.STEP_CHANGES[step]}")

# %% [markdown]
# ### Fix 1: drop the coupled decay
# `optim.Adam(model.parameters(), lr=0.001)` — nothing else changes.

# %%
# NBVAL_CHECK_OUTPUT
runs = {"as written": rec}
_, runs["no coupled decay"] = lesson.run_step("no coupled decay", split, seed=SEED)
print("validation RMSE per epoch:", " ".join(f"{v:.2f}" for v in runs["no coupled decay"].val_rmse))

# %%
mf.diagnose(runs["no coupled decay"])

# %% [markdown]
# With the decay gone the same model learns: from ≈ 3.7 to below 1.3 stars in 10 epochs — still
# worse than predicting the mean (claim 05.decay-blocks).
# Two warnings are left: the missing bias terms, and an error still worse than predicting the
# mean (claim 05.report-fix1). Movies with no training rating now keep their initial rows — a note,
# not a warning, since Xavier made them small.

# %% [markdown]
# ### Fix 2: bias terms and the global mean
# **Exercise 3 (PyTorch).** Write `MyMF(num_users, num_items, embedding_dim, global_mean)`: the
# article's two tables and their Xavier init, plus a user bias, an item bias (one number per row,
# started at 0) and the global mean added to every prediction.

# %%
MyMF = ...   # your class
ex["biases"].check(MyMF)

# %%
ex["biases"].hint()   # run again for the next hint; ex["biases"].solution() if you are stuck

# %% [markdown]
# The lesson's `MFWithBiases` is one such class; the next run uses it.

# %%
# NBVAL_CHECK_OUTPUT
_, runs["+ biases"] = lesson.run_step("+ biases", split, seed=SEED)
print("validation RMSE per epoch:", " ".join(f"{v:.2f}" for v in runs["+ biases"].val_rmse))

# %%
mf.diagnose(runs["+ biases"])

# %% [markdown]
# Now the model beats predicting the mean, by more than 0.1 stars (claim 05.biases).
# And the report has no warnings left (claim 05.report-green): green. The notes remain — cold
# movies keep their small init, and item norms follow popularity, which is normal.

# %% [markdown]
# ### Fix 3: regularize the rows the batch used
# A penalty 0.05·(mean ‖p_u‖² + mean ‖q_i‖²) on the batch's rows, added to the loss (the `l2`
# argument of `fit`).

# %%
# NBVAL_CHECK_OUTPUT
_, runs["+ L2 on the batch's rows"] = lesson.run_step("+ L2 on the batch's rows", split, seed=SEED)
print("validation RMSE per epoch:", " ".join(f"{v:.2f}" for v in runs["+ L2 on the batch's rows"].val_rmse))

# %%
final_report = mf.diagnose(runs["+ L2 on the batch's rows"])
final_report

# %% [markdown]
# Another ≈ 0.02 stars better after these 10 epochs (claim 05.l2-rows), and still no warnings
# (claim 05.report-green). A report with no warnings means no known fault, not the best model: the
# validation curve measures the model, the report looks for faults.

# %%
fig = lesson.plot_steps(runs, mf.baseline_rmse(split.train, split.val))
plt.show()

# %% [markdown]
# **Try this**
# - Give the job as written three times the epochs: `lesson.run_step("as written", split,
#   epochs=30)`. *Look for:* its validation RMSE still above 3 — the decay, not the short run,
#   holds it (claim 05.near-cliff).
# - Attach `mf.watch` to a loop of your own (two lines, see the summary) and read its report.
#   *Look for:* each warning's link, and whether the fix it names changes your validation curve.

# %% [markdown]
# **Exercise 4 — the tempting shortcut.** A colleague says: "keep the decay, just use
# `AdamW(weight_decay=0.01)`". AdamW multiplies every weight by (1 − lr·λ) at every step. Over
# this run, what is the total factor? Then try it: `lesson.run_step("+ biases", split,
# optimizer=lambda p: optim.AdamW(p, lr=0.001, weight_decay=0.01))` and read its report — still
# no warning, and one note more than fix 2's: the decay is too small to matter
# (claim 05.report-green); the validation RMSE barely moves (claim 05.adamw-nothing).

# %%
shrink = ...   # a number: (1 - lr * weight_decay) ** (number of steps)
ex["shrink"].check(shrink)

# %% [markdown]
# ## 4. Weights you already have
# No recorder, no history — just the two tables and the ratings they were trained on. The checks
# that need the run (initial scale, rows never updated, the optimizer's settings) are skipped
# and the report says so; the rest run on the weights. The job as written is flagged from its
# tables alone: collapsed to zero (claim 05.weights-only).

# %%
mf.diagnose(model.user_embeddings.weight, model.item_embeddings.weight, train=split.train)

# %% [markdown]
# The same from a terminal, for a saved `state_dict` and a ratings file (called here in this
# kernel: `mfteach check-model` runs the same function). It loads tensors only
# (`torch.load(..., weights_only=True)`); anything else is refused. With the ratings file it also
# sees the missing bias terms, and its exit code is 1 when the report has a warning — usable in a
# CI job (claim 05.weights-only).

# %%
import contextlib, io, os, tempfile
from mfteach.cli import main as mfteach_command   # what the `mfteach` command runs, called in this kernel
folder = tempfile.mkdtemp()
torch.save(model.state_dict(), os.path.join(folder, "model.pt"))
split.train.to_frame().to_csv(os.path.join(folder, "ratings.csv"), index=False)
with contextlib.redirect_stdout(io.StringIO()) as said:
    code = mfteach_command(["check-model", os.path.join(folder, "model.pt"), os.path.join(folder, "ratings.csv")])
print("$ mfteach check-model model.pt ratings.csv\n" + said.getvalue().replace(folder + os.sep, ""), f"\nexit code {code}")

# %% [markdown]
# ## 5. Real data, twice
# Everything above is already real data. With MovieLens 100k in the cache (`mfteach fetch-data`),
# the same path runs on it below; offline, the cell says so and does nothing.

# %%
try:
    ml100k = mf.random_split(mf.load_movielens_100k(download=False), seed=SEED)
except mf.DatasetUnavailable:
    print("MovieLens 100k is not in the cache, so this cell is skipped. Online, `mfteach fetch-data`\n"
          "downloads it (4.9 MB); offline, `mf.load_movielens_100k()` says where to put the zip.")
else:
    for step in lesson.STEPS:
        _, r = lesson.run_step(step, ml100k, seed=SEED)
        print(f"{step:26s} val RMSE {r.val_rmse[-1]:.3f}; warnings: {len(mf.diagnose(r).warnings)}")

# %% [markdown]
# ## Where you stand

# %%
mf.lessons.progress.summary()

# %% [markdown]
# ## Summary: two lines for your own loop
# ```python
# rec = mf.watch(model, optimizer, train=train_ratings)   # after building them
# ...
#     rec.epoch_end(val_rmse=...)                          # at the end of each epoch
# mf.diagnose(rec)
# ```
# - [ ] The report has no warnings — and each "info" line is something you expected.
# - [ ] One change at a time, rerun, read the report again: faults hide each other (notebook 04).
# - [ ] `Adam(weight_decay=λ)`: compare λ with λ* = 2·σ_max/N of the ratings your model sees —
#       λ ≥ λ* sends the tables to 0, and even λ*/10 slowed this model badly
#       (claim 05.decay-below-cliff).
# - [ ] Uncentred ratings need the global mean in the model (or centred ratings), with user and
#       item bias terms (claim 05.biases).
# - [ ] `AdamW`'s decay scales with lr: at lr 0.001 a short run barely feels it.
#
# That is the end of the course. Back to [the start](01_initialization.ipynb), or bring your next model.
