"""A synthetic video-game dataset whose item titles carry signal an LLM can use.

`synthetic_games` invents a catalogue of game franchises (numbered sequels, subtitles, yearly
sports editions) and standalone games on a few platforms, then sessions of players who mostly
move on to a franchise's next sequel or stay within a genre and platform. Knowing that
"Starfall Legends II (PS4)" follows "Starfall Legends (PS3)" is easy from the titles, while an
ID-based recommender sees each such transition only a few times. Nothing here is real data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from alkd_tui.data.canonical import TEST, TRAIN, VALID, SessionDataset

DEFAULT_SEED = 20250221
DATASET_NAME = "synthetic-games"
GENERATOR = "alkd_tui.data.synthetic.synthetic_games"
GENERATOR_VERSION = 1

#: Franchise names per genre: a prefix and a suffix, chosen so the genre shows in the title.
_GENRE_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "RPG": (
        ("Starfall", "Ember", "Crystal", "Dragon", "Rune", "Mythic", "Arcane", "Silver",
         "Eternal", "Moonlit", "Oath", "Shadow", "Ancient", "Sacred", "Wyrm"),
        ("Legends", "Chronicles", "Saga", "Quest", "Tales", "Fantasy"),
    ),
    "racing": (
        ("Turbo", "Nitro", "Apex", "Velocity", "Redline", "Throttle", "Gravel", "Slipstream",
         "Speed", "Overdrive", "Torque", "Pole", "Burnout", "Checkered", "Piston"),
        ("Rally", "Racer", "Kings", "Circuit", "Rush", "Motorsport"),
    ),
    "puzzle": (
        ("Block", "Tile", "Color", "Bubble", "Gem", "Logic", "Pixel", "Word", "Cube", "Domino",
         "Jelly", "Marble", "Brain", "Mosaic", "Prism"),
        ("Puzzle", "Drop", "Link", "Twist", "Pop", "Swap"),
    ),
    "shooter": (
        ("Iron", "Steel", "Hollowpoint", "Black", "Ghost", "Strike", "Delta", "Rogue", "Omega",
         "Warzone", "Zero", "Vanguard", "Bullet", "Sniper", "Titan"),
        ("Ops", "Front", "Squad", "Warfare", "Protocol", "Force"),
    ),
    "sports": (
        ("Pro", "Ultimate", "World", "All-Star", "Super", "Champion", "Crown", "Royal", "Prime",
         "Legend", "Elite", "Global", "Premier", "Stadium", "Grand"),
        ("Striker", "Hoops", "Tennis", "Golf", "Hockey", "Baseball"),
    ),
    "strategy": (
        ("Empire", "Kingdom", "Crown", "Bronze", "Galactic", "Imperial", "Ancient", "Banner",
         "Dominion", "Sovereign", "Warlord", "Realm", "Frontier", "Colony", "Citadel"),
        ("Tactics", "Conquest", "Command", "Dominion", "Wars", "Rising"),
    ),
    "platformer": (
        ("Rocket", "Bouncy", "Jumpin'", "Pixel", "Captain", "Mighty", "Tiny", "Lucky", "Dash",
         "Hopper", "Sparky", "Fuzzy", "Turbo", "Cosmic", "Pogo"),
        ("Bunny", "Kid", "Knight", "Dino", "Penguin", "Bandit"),
    ),
    "adventure": (
        ("Lost", "Hidden", "Forgotten", "Sunken", "Secret", "Whispering", "Broken", "Distant",
         "Silent", "Crimson", "Wandering", "Frozen", "Emerald", "Golden", "Forsaken"),
        ("Tomb", "Isles", "Expedition", "Odyssey", "Temple", "Journey"),
    ),
    "fighting": (
        ("Fist", "Blade", "Iron", "Soul", "Shadow", "Rage", "Tiger", "Dragon", "Brawl",
         "Thunder", "Steel", "Knuckle", "Cobra", "Fury", "Ring"),
        ("Fighters", "Brawlers", "Clash", "Showdown", "Tournament", "Duel"),
    ),
    "simulation": (
        ("Harvest Field", "Metro", "Zoo", "Truck", "Flight", "Railway", "Cafe", "Hospital",
         "Park", "Pet", "Island", "Ranch", "Theme", "Harbor", "Bakery"),
        ("Simulator", "Tycoon", "Story", "Manager", "Life", "Builder"),
    ),
    "horror": (
        ("Dead", "Dark", "Blood", "Grave", "Night", "Haunted", "Rotten", "Pale", "Crimson",
         "Hollow", "Cursed", "Fear", "Dread", "Ashen", "Wither"),
        ("Manor", "Asylum", "Hollow", "Signal", "Woods", "Ward"),
    ),
}  # fmt: skip
GENRES = tuple(_GENRE_NAMES)

#: The platform of each family by release year (a family's platform from that year on).
_FAMILIES: dict[str, tuple[tuple[int, str], ...]] = {
    "Nintendo": ((0, "Nintendo DS"), (2011, "Nintendo 3DS"), (2017, "Nintendo Switch")),
    "PlayStation": ((0, "PS3"), (2013, "PS4"), (2020, "PS5")),
    "Xbox": ((0, "Xbox 360"), (2013, "Xbox One"), (2020, "Xbox Series X")),
    "PC": ((0, "PC"),),
}
FAMILIES = tuple(_FAMILIES)
PLATFORMS = tuple(p for eras in _FAMILIES.values() for _, p in eras)
_FAMILY_WEIGHTS = np.array([0.25, 0.3, 0.2, 0.25])
#: How much a genre leans towards a family (multiplies `_FAMILY_WEIGHTS`).
_GENRE_TILT: dict[str, tuple[float, float, float, float]] = {
    "platformer": (3.0, 1.0, 0.7, 0.7),
    "puzzle": (2.0, 0.8, 0.6, 1.2),
    "strategy": (0.5, 0.7, 0.7, 3.0),
    "simulation": (1.0, 0.7, 0.7, 2.5),
    "shooter": (0.4, 1.5, 2.0, 1.5),
    "sports": (0.8, 1.6, 1.3, 0.6),
    "fighting": (1.0, 1.6, 1.0, 0.6),
}

_SUB_ADJ = ("Void", "Crimson", "Frozen", "Last", "Broken", "Hidden", "Shattered", "Iron",
            "Silent", "Burning", "Endless", "Fallen", "Golden", "Sunken", "Eternal", "Ashen")  # fmt: skip
_SUB_NOUN = ("Gate", "Crown", "Dawn", "Frontier", "Reckoning", "Legacy", "Storm", "Horizon",
             "Throne", "Awakening", "Exile", "Covenant", "Tide", "Citadel", "Oath", "Eclipse")  # fmt: skip
_PLACES = ("Veyra", "Kaldor", "Mirewood", "Ostmark", "Thalos", "Drennic", "Solmere", "Varn",
           "Eskar", "Lunhollow", "Brightwater", "Corvane", "Ystra", "Helmfall", "Quorra", "Zenith")  # fmt: skip
_STANDALONE_ADJ = ("Quiet", "Little", "Neon", "Paper", "Velvet", "Brave", "Clockwork", "Lonely",
                   "Wild", "Electric", "Gentle", "Restless", "Hollow", "Amber", "Midnight",
                   "Tangled", "Rusty", "Glass", "Lucky", "Northern")  # fmt: skip
_STANDALONE_NOUN = ("Harbor", "Lantern", "Orchard", "Signal", "Garden", "Engine", "Comet",
                    "Kingdom", "Carnival", "Lighthouse", "Machine", "Voyage", "Arcade",
                    "Frontier", "Parade", "Workshop", "Archive", "Tower", "Circus", "Meadow")  # fmt: skip
_ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

FIRST_YEAR, LAST_YEAR = 2008, 2024
SESSION_EPOCH = 1_704_067_200.0  # 2024-01-01T00:00:00Z
SESSION_SPAN_S = 366 * 86_400.0


@dataclass(frozen=True)
class SyntheticGamesParams:
    """The generator's knobs; stored with the dataset so it can be regenerated."""

    seed: int = DEFAULT_SEED
    n_sessions: int = 8_000
    n_franchises: int = 380
    n_standalone: int = 650
    min_clicks: int = 3
    max_clicks: int = 15
    p_next_sequel: float = 0.6
    p_same_franchise: float = 0.07
    p_same_genre: float = 0.23
    p_port: float = 0.3
    split: tuple[float, float, float] = (0.6, 0.2, 0.2)


@dataclass
class _Catalogue:
    titles: list[str]
    attributes: list[dict[str, Any]]
    popularity: np.ndarray  # float64
    genre: np.ndarray  # int codes into GENRES
    platform: np.ndarray  # int codes into PLATFORMS
    next_entry: list[list[int]]  # versions of the next installment, per item
    franchise_items: list[list[int]]  # every item of the item's franchise (empty if standalone)


def synthetic_games(
    seed: int = DEFAULT_SEED,
    n_sessions: int = 8_000,
    *,
    n_franchises: int = 380,
    n_standalone: int = 650,
    min_clicks: int = 3,
    max_clicks: int = 15,
    p_next_sequel: float = 0.6,
    p_same_franchise: float = 0.07,
    p_same_genre: float = 0.23,
    p_port: float = 0.3,
) -> SessionDataset:
    """A synthetic video-game catalogue and play sessions, deterministic for a `seed`.

    The generative story:

    * **Catalogue.** `n_franchises` franchises, each of one genre, named so the genre shows
      ("Nitro Rally", "Tiny Knight", "Pro Hoops"), start between 2008 and 2021 and release 2 to
      7 installments a few years apart (sports: yearly editions, "Pro Hoops 2019"). Titles number
      their sequels in roman or arabic numerals, sometimes with a subtitle ("Starfall Legends
      III: The Void Gate"), or use subtitles alone. Each installment comes out on its family's
      platform of that year (PS3 -> PS4 -> PS5, DS -> 3DS -> Switch, ...) and, with probability
      `p_port`, on a second platform; every platform version is its own item, and the title
      ends with the platform in parentheses. `n_standalone` one-off games fill the catalogue.
      Popularity is log-normal per franchise, fading with later installments, lower for ports.
    * **Sessions.** A player picks a platform and a genre (by popularity) and a first game
      (popular games of that genre on that platform are likelier). Each next game is, with
      probability `p_next_sequel`, the next installment of the current game's franchise (the
      version on the player's platform when there is one); else, with `p_same_franchise`,
      another installment of the same franchise; else, with `p_same_genre`, a popular game of
      the same genre (mostly on the same platform); else any popular game (noise). A session
      never repeats a game and has `min_clicks` to `max_clicks` games (geometric-like lengths).
    * **Instances.** Each session becomes one instance: its games but the last as input, the
      last as the target. Sessions are spread over 2024 in time order and split 6:2:2 by time.

    Item indices are shuffled, so neither an index nor an id gives away the next sequel. The
    catalogue and the sessions draw from separate child seeds: changing `n_sessions` keeps the
    catalogue. `notes["generator"]` holds every parameter.
    """
    params = SyntheticGamesParams(
        seed=seed,
        n_sessions=n_sessions,
        n_franchises=n_franchises,
        n_standalone=n_standalone,
        min_clicks=min_clicks,
        max_clicks=max_clicks,
        p_next_sequel=p_next_sequel,
        p_same_franchise=p_same_franchise,
        p_same_genre=p_same_genre,
        p_port=p_port,
    )
    if not 2 <= min_clicks <= max_clicks:
        raise ValueError("need 2 <= min_clicks <= max_clicks")
    if min(p_next_sequel, p_same_franchise, p_same_genre) < 0 or (
        p_next_sequel + p_same_franchise + p_same_genre > 1
    ):
        raise ValueError("transition probabilities must be >= 0 and sum to at most 1")
    catalogue_seed, session_seed, time_seed = np.random.SeedSequence(seed).spawn(3)
    cat = _make_catalogue(np.random.default_rng(catalogue_seed), params)
    sessions = _make_sessions(np.random.default_rng(session_seed), cat, params)

    offsets = np.zeros(len(sessions) + 1, dtype=np.int64)
    np.cumsum([len(s) - 1 for s in sessions], out=offsets[1:])
    items = np.fromiter(
        (i for s in sessions for i in s[:-1]), dtype=np.int32, count=int(offsets[-1])
    )
    targets = np.array([s[-1] for s in sessions], dtype=np.int32)
    n = len(sessions)
    n_train = round(n * params.split[0])
    n_valid = round(n * params.split[1])
    split = np.full(n, TEST, dtype=np.int8)
    split[:n_train] = TRAIN
    split[n_train : n_train + n_valid] = VALID
    start_times = (
        np.sort(np.random.default_rng(time_seed).random(n)) * SESSION_SPAN_S + SESSION_EPOCH
    )
    ds = SessionDataset(
        item_ids=[f"sg{k + 1:05d}" for k in range(len(cat.titles))],
        session_ids=[f"s{k + 1:05d}" for k in range(n)],
        split=split,
        offsets=offsets,
        items=items,
        targets=targets,
        titles=list(cat.titles),
        attributes=list(cat.attributes),
        start_times=np.round(start_times),
        notes={"generator": {"name": GENERATOR, "version": GENERATOR_VERSION, **asdict(params)}},
    )
    ds.validate()
    return ds


def _platform(family: str, year: int) -> str:
    return [p for start, p in _FAMILIES[family] if year >= start][-1]


def _family_probs(genre: str) -> np.ndarray:
    w = _FAMILY_WEIGHTS * np.array(_GENRE_TILT.get(genre, (1.0, 1.0, 1.0, 1.0)))
    return w / w.sum()


def _subtitle(rng: np.random.Generator) -> str:
    kind = rng.integers(3)
    if kind == 0:
        return f"The {rng.choice(_SUB_ADJ)} {rng.choice(_SUB_NOUN)}"
    if kind == 1:
        return f"{rng.choice(('Rise', 'Echoes', 'Heroes', 'Return', 'Storm', 'Shadows'))} of {rng.choice(_PLACES)}"
    return f"{rng.choice(_SUB_ADJ)} {rng.choice(_SUB_NOUN)}"


def _installment_titles(
    rng: np.random.Generator, name: str, genre: str, years: list[int]
) -> list[str]:
    """Titles of a franchise's installments, in order."""
    if genre == "sports":
        return [f"{name} {y}" for y in years]
    style = rng.choice(["roman", "arabic", "subtitle"], p=[0.42, 0.38, 0.2])
    used: set[str] = set()
    titles: list[str] = []
    for k in range(1, len(years) + 1):
        sub = ""
        if (k == 1 and rng.random() < 0.15) or (
            k > 1 and (style == "subtitle" or rng.random() < 0.4)
        ):
            sub = _subtitle(rng)
            while sub in used:
                sub = _subtitle(rng)
            used.add(sub)
        number = (
            "" if k == 1 or style == "subtitle" else (_ROMAN[k] if style == "roman" else str(k))
        )
        title = f"{name} {number}".rstrip()
        titles.append(f"{title}: {sub}" if sub else title)
    return titles


def _make_catalogue(rng: np.random.Generator, params: SyntheticGamesParams) -> _Catalogue:
    titles: list[str] = []
    attributes: list[dict[str, Any]] = []
    popularity: list[float] = []
    installments: list[list[list[int]]] = []  # per franchise, per installment, its item versions

    genre_weights = np.array([1.3, 1.0, 0.8, 1.2, 0.9, 0.8, 1.0, 1.0, 0.7, 0.8, 0.7])
    genre_weights /= genre_weights.sum()
    free_names = {
        g: [f"{a} {b}" for a in prefixes for b in suffixes]
        for g, (prefixes, suffixes) in _GENRE_NAMES.items()
    }
    for _ in range(params.n_franchises):
        genre = str(rng.choice(GENRES, p=genre_weights))
        pool = free_names[genre]
        if not pool:
            continue
        name = pool.pop(int(rng.integers(len(pool))))
        family = str(rng.choice(FAMILIES, p=_family_probs(genre)))
        n_entries = int(rng.choice([2, 3, 4, 5, 6, 7], p=[0.24, 0.26, 0.2, 0.14, 0.1, 0.06]))
        gaps = (
            np.ones(n_entries - 1, dtype=int)
            if genre == "sports"
            else rng.integers(1, 4, n_entries - 1)
        )
        start = min(int(rng.integers(FIRST_YEAR, 2022)), LAST_YEAR - int(gaps.sum()))
        years = [start, *(start + np.cumsum(gaps)).tolist()]
        entry_titles = _installment_titles(rng, name, genre, years)
        base_pop = float(rng.lognormal(0.0, 0.9))
        franchise: list[list[int]] = []
        for k, (year, title) in enumerate(zip(years, entry_titles, strict=True), start=1):
            platforms = [_platform(family, year)]
            if rng.random() < params.p_port:
                others = [_platform(f, year) for f in FAMILIES if f != family]
                platforms.append(str(rng.choice(others)))
            pop = base_pop * 0.85 ** (k - 1) * float(rng.lognormal(0.0, 0.3))
            versions = []
            for j, platform in enumerate(platforms):
                versions.append(len(titles))
                titles.append(f"{title} ({platform})")
                attributes.append(
                    {
                        "genre": genre,
                        "platform": platform,
                        "franchise": name,
                        "installment": k,
                        "year": year,
                    }
                )
                popularity.append(pop * (0.5 if j else 1.0))
            franchise.append(versions)
        installments.append(franchise)

    used_names: set[str] = set()
    for _ in range(params.n_standalone):
        genre = str(rng.choice(GENRES, p=genre_weights))
        while True:
            if rng.random() < 0.7:
                base = f"{rng.choice(_STANDALONE_ADJ)} {rng.choice(_STANDALONE_NOUN)}"
            else:
                base = f"{rng.choice(_STANDALONE_NOUN)} of {rng.choice(_PLACES)}"
            if base not in used_names:
                break
        used_names.add(base)
        year = int(rng.integers(FIRST_YEAR, LAST_YEAR + 1))
        platform = _platform(str(rng.choice(FAMILIES, p=_family_probs(genre))), year)
        titles.append(f"{base} ({platform})")
        attributes.append({"genre": genre, "platform": platform, "year": year})
        popularity.append(float(rng.lognormal(-0.7, 0.9)))

    # Shuffle item indices: new index of catalogue item c is new_of_old[c].
    n = len(titles)
    order = rng.permutation(n)
    new_of_old = np.empty(n, dtype=np.int64)
    new_of_old[order] = np.arange(n)
    next_entry: list[list[int]] = [[] for _ in range(n)]
    franchise_items: list[list[int]] = [[] for _ in range(n)]
    for franchise in installments:
        members = [int(new_of_old[v]) for versions in franchise for v in versions]
        for k, versions in enumerate(franchise):
            following = (
                [int(new_of_old[v]) for v in franchise[k + 1]] if k + 1 < len(franchise) else []
            )
            for v in versions:
                next_entry[new_of_old[v]] = following
                franchise_items[new_of_old[v]] = members
    attrs = [attributes[c] for c in order]
    return _Catalogue(
        titles=[titles[c] for c in order],
        attributes=attrs,
        popularity=np.asarray(popularity, dtype=np.float64)[order],
        genre=np.array([GENRES.index(a["genre"]) for a in attrs], dtype=np.int64),
        platform=np.array([PLATFORMS.index(a["platform"]) for a in attrs], dtype=np.int64),
        next_entry=next_entry,
        franchise_items=franchise_items,
    )


class _Sampler:
    """Popularity-weighted draws from a fixed subset of items (inverse CDF)."""

    def __init__(self, index: np.ndarray, weights: np.ndarray) -> None:
        self.index = index
        self.cdf = np.cumsum(weights)

    def draw(self, rng: np.random.Generator) -> int:
        k = int(np.searchsorted(self.cdf, rng.random() * self.cdf[-1], side="right"))
        return int(self.index[min(k, len(self.index) - 1)])


def _make_sessions(
    rng: np.random.Generator, cat: _Catalogue, params: SyntheticGamesParams
) -> list[list[int]]:
    n_items = len(cat.titles)
    everything = np.arange(n_items)
    pop = cat.popularity
    n_genres, n_platforms = len(GENRES), len(PLATFORMS)
    same_platform = [cat.platform == p for p in range(n_platforms)]
    # Sampler tables, per session platform p (and genre g).
    starts = {
        (g, p): _Sampler(
            everything,
            pop * np.where(cat.genre == g, 4.0, 1.0) * np.where(same_platform[p], 6.0, 1.0),
        )
        for g in range(n_genres)
        for p in range(n_platforms)
    }
    in_genre = [np.flatnonzero(cat.genre == g) for g in range(n_genres)]
    genre_moves = {
        (g, p): _Sampler(
            in_genre[g], pop[in_genre[g]] * np.where(same_platform[p][in_genre[g]], 6.0, 1.0)
        )
        for g in range(n_genres)
        for p in range(n_platforms)
        if in_genre[g].size
    }
    noise = [
        _Sampler(everything, pop * np.where(same_platform[p], 3.0, 1.0)) for p in range(n_platforms)
    ]
    platform_share = np.bincount(cat.platform, weights=pop, minlength=n_platforms)
    platform_share /= platform_share.sum()
    genre_shares = []
    for p in range(n_platforms):
        share = np.bincount(
            cat.genre[same_platform[p]], weights=pop[same_platform[p]], minlength=n_genres
        )
        genre_shares.append(
            share / share.sum() if share.sum() > 0 else np.full(n_genres, 1 / n_genres)
        )

    p_next = params.p_next_sequel
    p_franchise = p_next + params.p_same_franchise
    p_genre = p_franchise + params.p_same_genre
    span = params.max_clicks - params.min_clicks
    sessions: list[list[int]] = []
    for _ in range(params.n_sessions):
        platform = int(rng.choice(n_platforms, p=platform_share))
        genre = int(rng.choice(n_genres, p=genre_shares[platform]))
        length = params.min_clicks + min(int(rng.geometric(0.25)) - 1, span)
        current = starts[genre, platform].draw(rng)
        session = [current]
        seen = {current}
        while len(session) < length:
            r = rng.random()
            choice = -1
            if r < p_next and cat.next_entry[current]:
                options = cat.next_entry[current]
                mine = [v for v in options if cat.platform[v] == platform]
                choice = mine[0] if mine else options[int(rng.integers(len(options)))]
            elif p_next <= r < p_franchise and cat.franchise_items[current]:
                options = [v for v in cat.franchise_items[current] if v not in seen]
                if options:
                    choice = options[int(rng.integers(len(options)))]
            elif r < p_genre:  # also where the move above has nothing to go to
                choice = genre_moves[int(cat.genre[current]), platform].draw(rng)
            for _attempt in range(20):
                if choice >= 0 and choice not in seen:
                    break
                choice = noise[platform].draw(rng)
            else:
                break  # a session that cannot find a new game ends early
            session.append(choice)
            seen.add(choice)
            current = choice
        if len(session) >= 2:
            sessions.append(session)
    return sessions
