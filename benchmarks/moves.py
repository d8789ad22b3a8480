"""What a student does to a panel, for the benchmarks that simulate one (memory, class size)."""
from mfteach.ui import Choice, Toggle


def random_move(p, rng) -> dict:
    """One control of panel ``p`` and a random value it can take: {name: value}."""
    name = rng.choice(list(p.specs))
    spec, wid = p.specs[name], p.controls[name]
    if isinstance(spec, Choice):
        value = rng.choice([v for _, v in spec.pairs()])
    elif isinstance(spec, Toggle):
        value = not p.values[name]
    elif spec.log:
        value = rng.choice([v for _, v in wid.options])
    elif spec.integer:
        value = rng.randrange(int(wid.min), int(wid.max) + 1, int(wid.step or 1))
    else:
        value = rng.uniform(wid.min, wid.max)
    return {name: value}
