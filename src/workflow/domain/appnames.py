"""Random `<adjective>-<noun>` app names, as Deis generates when no id is given."""

from __future__ import annotations

import random

ADJECTIVES = (
    "ablest", "absurd", "actual", "allied", "artful", "atomic", "august", "bamboo", "benign", "blonde",
    "blurry", "bolder", "breezy", "bubbly", "candid", "casual", "cheery", "classy", "clever", "convex",
    "cubist", "dainty", "dapper", "decent", "deluxe", "docile", "dogged", "drafty", "dreamy", "earthy",
    "easier", "echoed", "edible", "elfish", "excess", "exotic", "expert", "fabled", "famous", "feline",
    "finest", "flaxen", "folksy", "frisky", "frozen", "gaslit", "gentle", "gifted", "ginger", "global",
    "golden", "grassy", "hearty", "hidden", "hipper", "honest", "humble", "hungry", "hushed", "iambic",
    "jaunty", "jovial", "kindly", "lively", "lovely", "lucent", "lunary", "marine", "mellow", "modern",
    "native", "nimble", "oblong", "peachy", "placid", "polite", "quirky", "rustic", "serene", "snappy",
    "steady", "sturdy", "sunlit", "tender", "upbeat", "velvet", "vernal", "wintry", "witty", "zesty",
)
NOUNS = (
    "anaconda", "airfield", "aqualung", "armchair", "asteroid", "autoharp", "babushka", "bagpiper",
    "barbecue", "bookworm", "bullfrog", "buttress", "caffeine", "chinbone", "countess", "crawfish",
    "cucumber", "cutpurse", "daffodil", "darkroom", "doghouse", "dragster", "drumroll", "duckling",
    "earthman", "eggplant", "electron", "elephant", "espresso", "eyetooth", "falconer", "farmland",
    "ferryman", "fireball", "footwear", "frosting", "gadabout", "gasworks", "gatepost", "gemstone",
    "gladness", "goldfish", "greenery", "hacienda", "handbill", "hardtack", "hawthorn", "headwind",
    "henhouse", "huntress", "icehouse", "idealist", "inchworm", "jailbird", "jetliner", "kangaroo",
    "kingfish", "kinswoman", "lacewing", "lakeside", "landmass", "lapwing", "lemonade", "lifeboat",
    "limerick", "magician", "mandolin", "marathon", "meadow", "mushroom", "nautilus", "nightcap",
    "notebook", "nutshell", "offering", "outfield", "pancake", "pinwheel", "quagmire", "raincoat",
    "rosebush", "sandwich", "seahorse", "shamrock", "sparrow", "starfish", "teahouse", "tricycle",
    "waterbed", "woodland", "yodeling", "zeppelin",
)


def generate_app_name(rng: random.Random | None = None) -> str:
    rng = rng or random.SystemRandom()
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
