"""Lesson 05's exercises: name the setting that collapses the tables, write the bias terms,
compute AdamW's total shrink, compute the cliff λ* from the data. Checks test properties of the
answer and say which slip they see."""
from __future__ import annotations

import numpy as np

from .check_own import EPOCHS, Batches, reader_data
from .exercises import Exercise, close_to

__all__ = ["exercises", "cliff_lambda", "COLLAPSE_ANSWERS"]

# what a student may type for the setting that collapses the tables, and why each wrong one is wrong
COLLAPSE_ANSWERS = {
    "weight_decay": None,
    "init": "the report's first check passed: Xavier on these tables starts tiny, so the first "
            "RMSE is the ratings' own size, not more (claim 05.as-written-stuck). Something "
            "keeps pulling every row back to 0 on every step.",
    "biases": "without bias terms the model must build the 3.5-star mean from dot products, which "
              "is slow — but with the decay removed and still no biases it does learn "
              "(claim 05.decay-blocks). Missing biases do not hold the rows at 0.",
    "lr": "lr = 0.001 is slow, yet with the same lr and no decay the model learns within 10 "
          "epochs (claim 05.decay-blocks).",
    "epochs": "more epochs at the same settings leave it stuck: the decay holds the rows near 0 "
              "(claim 05.near-cliff).",
    "batch_size": "the batch size changes the noise, not the pull towards 0 on every step.",
}
_ALIASES = {"weight decay": "weight_decay", "decay": "weight_decay", "wd": "weight_decay",
            "weight_decay=0.01": "weight_decay", "xavier": "init", "initialization": "init",
            "initialisation": "init", "bias": "biases", "bias terms": "biases",
            "learning rate": "lr", "learning_rate": "lr", "num_epochs": "epochs",
            "batch size": "batch_size"}


def _collapse(answer):
    if not isinstance(answer, str):
        return False, f"answer with a setting's name as a string, e.g. 'lr' (got {type(answer).__name__})"
    key = answer.strip().strip("'\"").lower()
    key = _ALIASES.get(key, key)
    if key not in COLLAPSE_ANSWERS:
        return False, f"{answer!r} is not one of the settings: {', '.join(COLLAPSE_ANSWERS)}"
    why = COLLAPSE_ANSWERS[key]
    if why is None:
        return True, ("Adam adds weight_decay·w to every gradient: a pull to 0 on every row, every "
                      "step. At λ = 0.01, just below this data's cliff λ* ≈ 0.0104, the rows "
                      "barely grow (claim 05.near-cliff).")
    return False, why


def _bias_model(cls):
    """Check a student's MF-with-biases class on a tiny problem (no training needed): Xavier
    tables, bias tables started at 0, and forward = dot + b_u + b_i + the mean (which may be a
    number or a learnable parameter started at the mean)."""
    import torch

    nu, ni, dim, mean = 5, 7, 4, 3.5
    if not callable(cls):
        return False, f"pass the class itself (MyMF), not {type(cls).__name__}"
    try:
        model = cls(nu, ni, dim, mean)
    except TypeError as e:
        return False, (f"MyMF should take (num_users, num_items, embedding_dim, global_mean): "
                       f"calling it that way raised TypeError: {e}")
    if not isinstance(model, torch.nn.Module):
        return False, f"{cls.__name__}(...) should build an nn.Module, got {type(model).__name__}"
    params = dict(model.named_parameters())
    rows = {n: p.shape[0] for n, p in params.items() if p.dim() >= 1}  # (a 0-d mean has none)
    ut = [n for n, p in params.items() if p.dim() == 2 and p.shape == (nu, dim)]
    it = [n for n, p in params.items() if p.dim() == 2 and p.shape == (ni, dim)]
    users = [n for n, p in params.items() if rows.get(n) == nu and p.numel() == nu]
    items = [n for n, p in params.items() if rows.get(n) == ni and p.numel() == ni]
    if not ut or not it:
        return False, "keep the user and item embedding tables (embedding_dim columns each)"
    if not users:
        return False, "no user bias: add a table with one number per user, e.g. nn.Embedding(num_users, 1)"
    if not items:
        return False, "no item bias: add a table with one number per item, e.g. nn.Embedding(num_items, 1)"
    if any(float(params[n].detach().abs().max()) > 0 for n in (users[0], items[0])):
        return False, "start the bias tables at 0 (nn.init.zeros_ on their weights)"
    wrong = _not_xavier(cls, mean)
    if wrong:
        return False, wrong
    u, i = torch.arange(nu).repeat(2)[:ni], torch.arange(ni)
    with torch.no_grad():
        for n in (ut[0], it[0], users[0], items[0]):  # a learnable mean keeps its start value
            params[n].zero_()
        out = model(u, i)
        if tuple(out.shape) != (ni,):
            return False, (f"forward should return one prediction per pair, shape ({ni},); got "
                           f"{tuple(out.shape)} (squeeze the bias lookups: (batch, 1) → (batch,))")
        if not torch.allclose(out, torch.full_like(out, mean), atol=1e-4):
            return False, (f"with the tables and biases at 0 the prediction should be the global "
                           f"mean {mean}, got {float(out.mean()):.3g}: add global_mean in forward "
                           f"(a learnable global bias must start at global_mean)")
        params[users[0]].view(-1)[0] = 1.0
        params[items[0]].view(-1)[1] = 2.0
        moved = (model(u, i) - out).numpy()
        params[users[0]].zero_()
        params[items[0]].zero_()
        params[ut[0]].fill_(0.5)   # every dot product = dim · 0.5 · 0.25
        params[it[0]].fill_(0.25)
        dot = (model(u, i) - out).numpy()
    want = np.zeros(ni)
    want[u.numpy() == 0] += 1.0
    want[1] += 2.0
    if not np.allclose(moved, want, atol=1e-4):
        return False, ("the bias tables exist but forward does not add them per pair: user u's "
                       "bias should move only u's predictions, item i's only i's")
    if not np.allclose(dot, dim * 0.125, atol=1e-4):
        return False, ("forward should ADD the dot product of the two rows to the biases and the "
                       "mean: prediction = <p_u, q_i> + b_u + b_i + global_mean")
    return True, "a dot product plus b_u + b_i + the global mean: notebook 05's MFWithBiases."


def _not_xavier(cls, mean, nu=200, ni=300, dim=16):
    """Why the two tables do not look Xavier-initialised (std √(2/(rows + dim))), or ""."""
    big = dict(cls(nu, ni, dim, mean).named_parameters())
    for rows, what in ((nu, "user"), (ni, "item")):
        t = next((p for p in big.values() if p.dim() == 2 and p.shape == (rows, dim)), None)
        if t is None:
            return f"the {what} embedding table should be (num_{what}s, embedding_dim)"
        std, want = float(t.detach().std()), (2.0 / (rows + dim)) ** 0.5
        if not 0.75 * want <= std <= 1.33 * want:
            return (f"keep the article's Xavier init on both embedding tables "
                    f"(nn.init.xavier_uniform_): for a ({rows}, {dim}) table its std is "
                    f"{want:.3f}, yours has {std:.3f}")
    return ""


def cliff_lambda(ratings, values=None) -> float:
    """λ* = 2·σ_max(R)/N for the N ratings of ``ratings`` (or ``values`` in their place, e.g.
    centred ones), as the model sees them: raw in the reader's job."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    r = ratings.ratings if values is None else values
    M = csr_matrix((np.asarray(r, np.float64), (ratings.users, ratings.items)),
                   shape=(ratings.n_users, ratings.n_items))
    return float(2 * svds(M, k=1, random_state=0)[1][0] / len(ratings))


def _shrink(answer):
    try:
        x = float(answer)
    except (TypeError, ValueError):
        return False, f"the total shrink should be a number, got {answer!r}"
    per_epoch = len(Batches(reader_data(0).train))
    steps, step = EPOCHS * per_epoch, 1 - 0.001 * 0.01
    want = step ** steps
    # compare how much each answer shrinks (1 − x): the slips differ there by factors of 10
    gone, near = 1 - x, lambda a, b: abs(a - b) <= 0.02 * abs(b)
    if near(gone, 1 - want):
        return True, (f"{x:.4f}: after {steps} steps every weight keeps {want:.1%} of itself — "
                      "AdamW's decay at lr 0.001 does next to nothing here (claim 05.adamw-nothing)")
    slips = [(near(x, 0.001 * 0.01), "that is lr·λ, ONE step's shrink; multiply (1 − lr·λ) over "
                                     "every step"),
             (near(gone, 1 - step), f"that is one step's factor (1 − lr·λ); the run takes {steps} steps"),
             (near(gone, 1 - step ** EPOCHS), f"that counts epochs; the decay acts at every step "
                                              f"({per_epoch} per epoch)"),
             (near(x, (1 - 0.01) ** steps), "that uses (1 − λ): AdamW scales the decay by the "
                                            "learning rate, (1 − lr·λ)")]
    for hit, why in slips:
        if hit:
            return False, f"{x:.6g}: {why}"
    return False, f"{x:.6g} is not it: (1 − lr·λ) multiplied over every step of the run"


def _cliff(answer):
    t = reader_data(0).train
    want = cliff_lambda(t)
    slips = [(want / 2, "that is σ_max/N; the cliff is at 2·σ_max/N"),
             (cliff_lambda(t, t.ratings - t.ratings.mean()),
              "that is the cliff of CENTRED ratings; the article's model sees raw 0.5–5 ratings"),
             (want * len(t) / t.n_users, "divide by the number of ratings N, not of users"),
             (want * len(t) / 2, "that is 2·σ_max; divide by the number of ratings N")]
    return close_to(want, rel=0.02, what="λ*", slips=slips)(answer)


def exercises() -> dict:
    """Notebook 05's exercises, by short name."""
    return {
        "collapse": Exercise(
            "05 · which setting collapses the tables",
            "The report says the tables are ≈ 0. Name the ONE setting of the reader's job that "
            "holds them there: 'init', 'weight_decay', 'biases', 'lr', 'epochs' or 'batch_size'.",
            _collapse, hints=["Which setting acts on every row at every step, whatever the data?",
                              "Compare the report's λ with its estimated cliff λ*."],
            solution="'weight_decay' — Adam(..., weight_decay=0.01)", id="05.collapse"),
        "biases": Exercise(
            "05 · write the bias terms",
            "Write a class MyMF(num_users, num_items, embedding_dim, global_mean): the article's "
            "two embedding tables, plus a user bias, an item bias and the global mean.",
            _bias_model, hints=["A bias table is nn.Embedding(num_users, 1): one number per user.",
                                "forward: dot + b_u(user_ids).squeeze(1) + b_i(item_ids).squeeze(1) "
                                "+ self.global_mean"],
            solution=_BIAS_SOLUTION, id="05.biases"),
        "shrink": Exercise(
            "05 · AdamW's total shrink",
            f"AdamW(lr=0.001, weight_decay=0.01) multiplies every weight by (1 − lr·λ) at each "
            f"step. Over this run ({EPOCHS} epochs of batches of 1,024), by how much in total? "
            "(a number near 1 means the decay does nothing)",
            _shrink, hints=["Count the steps: epochs × batches per epoch (len(loader)).",
                            "(1 - lr * weight_decay) ** steps"],
            solution="(1 - 0.001 * 0.01) ** (EPOCHS * len(loader))", id="05.shrink"),
        "cliff": Exercise(
            "05 · compute the cliff λ* from the data",
            "Compute λ* = 2·σ_max(R)/N for the reader's training ratings R (raw, as the model "
            "sees them; N = number of ratings) with scipy.sparse.linalg.svds.",
            _cliff, hints=["Build R = scipy.sparse.csr_matrix((ratings, (users, items)), "
                           "shape=(n_users, n_items)).",
                           "σ_max = svds(R, k=1)[1][0]"],
            solution=_CLIFF_SOLUTION, id="05.cliff"),
    }


_BIAS_SOLUTION = '''\
class MyMF(nn.Module):
    def __init__(self, num_users, num_items, embedding_dim, global_mean):
        super().__init__()
        self.user_embeddings = nn.Embedding(num_users, embedding_dim)
        self.item_embeddings = nn.Embedding(num_items, embedding_dim)
        nn.init.xavier_uniform_(self.user_embeddings.weight)
        nn.init.xavier_uniform_(self.item_embeddings.weight)
        self.user_bias = nn.Embedding(num_users, 1)
        self.item_bias = nn.Embedding(num_items, 1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
        self.global_mean = global_mean

    def forward(self, user_ids, item_ids):
        dot = torch.sum(self.user_embeddings(user_ids) * self.item_embeddings(item_ids), dim=1)
        return (dot + self.user_bias(user_ids).squeeze(1) + self.item_bias(item_ids).squeeze(1)
                + self.global_mean)'''

_CLIFF_SOLUTION = '''\
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import svds
t = split.train
R = csr_matrix((t.ratings.astype(float), (t.users, t.items)), shape=(t.n_users, t.n_items))
lam_star = 2 * svds(R, k=1)[1][0] / len(t)'''
